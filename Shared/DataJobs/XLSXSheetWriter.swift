import CXLSXWriter
import Foundation

/// One-sheet XLSX writing through libxlsxwriter in constant-memory mode: each row goes to a
/// temporary file as it is written, so memory stays flat however many rows there are. Owns the
/// `lxw_workbook`, which ``close()`` (or deinit) finishes and frees.
final class XLSXSheetWriter {
    private var workbook: OpaquePointer?
    private let sheet: UnsafeMutablePointer<lxw_worksheet>
    private var row: UInt32 = 0
    let path: String

    init(path: String, sheetName: String) throws {
        self.path = path
        var options = lxw_workbook_options(constant_memory: 1, tmpdir: nil, use_zip64: 1)
        guard let book = workbook_new_opt(path, &options) else { throw XLSXWriteError(message: "cannot create \(path)") }
        workbook = OpaquePointer(book)
        guard let sheet = workbook_add_worksheet(book, sheetName) else { throw XLSXWriteError(message: "cannot add a worksheet") }
        self.sheet = sheet
    }

    enum Cell {
        case text(String)
        case number(Double)
        case bool(Bool)
        case empty
    }

    func append(_ cells: [Cell]) throws {
        guard row < 1_048_576 else { throw XLSXWriteError(message: "a sheet holds at most 1,048,576 rows; export to CSV instead") }
        for (column, cell) in cells.enumerated() {
            let col = lxw_col_t(column)
            let rc: lxw_error
            switch cell {
            case .text(let text): rc = worksheet_write_string(sheet, row, col, String(text.prefix(32767)), nil)
            case .number(let number): rc = number.isFinite ? worksheet_write_number(sheet, row, col, number, nil) : worksheet_write_string(sheet, row, col, String(number), nil)
            case .bool(let flag): rc = worksheet_write_boolean(sheet, row, col, flag ? 1 : 0, nil)
            case .empty: rc = LXW_NO_ERROR
            }
            guard rc == LXW_NO_ERROR else { throw XLSXWriteError(message: String(cString: lxw_strerror(rc))) }
        }
        row += 1
    }

    func close() throws {
        guard let book = workbook else { return }
        workbook = nil
        let rc = workbook_close(UnsafeMutablePointer(book))
        guard rc == LXW_NO_ERROR else { throw XLSXWriteError(message: String(cString: lxw_strerror(rc))) }
    }

    deinit { if let book = workbook { _ = workbook_close(UnsafeMutablePointer(book)) } }
}

struct XLSXWriteError: Error, CustomStringConvertible {
    let message: String
    var description: String { "XLSX: \(message)" }
}
