import CFreeXL

/// An Excel 97–2003 workbook (`.xls`, BIFF8), read with libfreexl.
public final class XLSWorkbook {
    // Not Sendable: a FreeXL handle is used by one thread at a time (the library keeps the parse
    // state in it). An import job opens, reads and closes it on its own.
    private var handle: UnsafeRawPointer?

    /// The names of the worksheets, in order.
    public let sheetNames: [String]

    /// Opens `path`.
    ///
    /// - Throws: ``ImportFileError`` saying what is wrong with the file (missing, encrypted, not an XLS).
    public init(path: String) throws(ImportFileError) {
        var h: UnsafeRawPointer?
        let status = freexl_open(path, &h)
        guard status == FREEXL_OK, let h else {
            if let h { freexl_close(h) }
            throw ImportFileError(file: path, message: Self.explain(status))
        }
        var protection: UInt32 = 0
        if freexl_get_info(h, UInt16(FREEXL_BIFF_PASSWORD), &protection) == FREEXL_OK, protection == UInt32(FREEXL_BIFF_OBFUSCATED) {
            freexl_close(h)
            throw ImportFileError(file: path, message: "the workbook is password-protected; save it without a password and upload it again")
        }
        handle = h
        var count: UInt32 = 0
        freexl_get_info(h, UInt16(FREEXL_BIFF_SHEET_COUNT), &count)
        var names: [String] = []
        for i in 0..<UInt16(count) {
            var name: UnsafePointer<CChar>?
            freexl_get_worksheet_name(h, i, &name)
            names.append(name.map { String(cString: $0) } ?? "Sheet\(i + 1)")
        }
        sheetNames = names
    }

    deinit { close() }

    /// Frees the workbook; reading afterwards fails.
    public func close() {
        if let handle { freexl_close(handle) }
        handle = nil
    }

    /// The rows of worksheet `index` with their cells as text (numbers as written, dates as
    /// `YYYY-MM-DD`, empty cells as ""); trailing empty rows are left out.
    ///
    /// - Throws: ``ImportFileError`` when the sheet does not exist or a cell cannot be read.
    public func rows(sheet index: Int = 0) throws(ImportFileError) -> [DelimitedTextReader.Row] {
        guard let handle else { throw ImportFileError(file: "workbook", message: "the workbook is closed") }
        guard sheetNames.indices.contains(index) else {
            throw ImportFileError(file: "workbook", message: "there is no sheet \(index + 1); the workbook has \(sheetNames.count)")
        }
        guard freexl_select_active_worksheet(handle, UInt16(index)) == FREEXL_OK else {
            throw ImportFileError(file: "workbook", message: "sheet '\(sheetNames[index])' cannot be read")
        }
        var rowCount: UInt32 = 0
        var columnCount: UInt16 = 0
        freexl_worksheet_dimensions(handle, &rowCount, &columnCount)
        var rows: [DelimitedTextReader.Row] = []
        for r in 0..<rowCount {
            var fields: [String] = []
            fields.reserveCapacity(Int(columnCount))
            for c in 0..<columnCount {
                var cell = FreeXL_CellValue()
                guard freexl_get_cell_value(handle, r, c, &cell) == FREEXL_OK else {
                    throw ImportFileError(file: "workbook", message: "the cell at row \(r + 1), column \(c + 1) of '\(sheetNames[index])' cannot be read")
                }
                fields.append(Self.text(cell))
            }
            rows.append(.init(line: Int(r) + 1, fields: fields))
        }
        while let last = rows.last, last.fields.allSatisfy(\.isEmpty) { rows.removeLast() }
        return rows
    }

    static func text(_ cell: FreeXL_CellValue) -> String {
        switch Int32(cell.type) {
        case FREEXL_CELL_INT: return String(cell.value.int_value)
        case FREEXL_CELL_DOUBLE:
            let d = cell.value.double_value
            if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
            return String(d)
        case FREEXL_CELL_TEXT, FREEXL_CELL_SST_TEXT, FREEXL_CELL_DATE, FREEXL_CELL_DATETIME, FREEXL_CELL_TIME:
            return cell.value.text_value.map { String(cString: $0) } ?? ""
        default: return ""
        }
    }

    static func explain(_ status: Int32) -> String {
        switch status {
        case FREEXL_FILE_NOT_FOUND: "the file does not exist"
        case FREEXL_INSUFFICIENT_MEMORY: "the workbook is too large to read"
        default: "this is not an Excel 97–2003 (.xls) workbook; save it as .xls, .xlsx or CSV and upload it again"
        }
    }
}

/// A file that cannot be imported at all: which file and what is wrong. Nothing was imported from it.
public struct ImportFileError: Error, CustomStringConvertible, Sendable, Equatable {
    public let file: String
    public let message: String
    public var description: String { "\(file): \(message)" }
}
