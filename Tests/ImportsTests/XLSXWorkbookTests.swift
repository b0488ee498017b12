import Foundation
import Imports
import Testing

@Suite("XLSX workbooks")
struct XLSXWorkbookTests {
    /// contacts.xlsx was written by XlsxWriter, a real spreadsheet writer (Fixtures/make_fixtures.py).
    @Test func readsSharedStringsNumbersDatesAndBooleans() throws {
        let book = try XLSXWorkbook(path: try XLSWorkbookTests.fixture("contacts.xlsx"))
        #expect(book.sheetNames == ["Контакты", "Empty"])
        let rows = try book.rows(sheet: 0)
        #expect(rows.map(\.line) == [1, 2, 3, 4, 5, 6])
        #expect(rows[0].fields == ["email", "first_name", "city", "orders", "spent", "birthday"])
        #expect(rows[1].fields == ["ann@example.com", "Анна", "Москва", "3", "1534.75", "1990-01-15"])
        #expect(rows[2].fields == ["bob@example.com", "Bob", "Köln", "0", "0"])
        #expect(rows[3].fields == ["cid@example.com", "", "Berlin", "12", "99.5", "1985-12-31"])
        #expect(rows[4].fields.isEmpty, "a row the sheet skips is an empty row")
        #expect(rows[5].fields == ["TRUE"])
        #expect(try book.rows(sheet: 1).isEmpty)
        #expect(throws: ImportFileError.self) { try book.rows(sheet: 5) }
    }

    @Test func aFileThatIsNotAWorkbookGetsAClearError() throws {
        #expect {
            _ = try XLSXWorkbook(path: try XLSWorkbookTests.fixture("garbage.xls"))
        } throws: { ($0 as? ImportFileError)?.message.hasPrefix("this is not an Excel (.xlsx) workbook") == true }
        #expect {
            _ = try XLSXWorkbook(path: "/nonexistent/contacts.xlsx")
        } throws: { ($0 as? ImportFileError)?.message == "the file does not exist" }
    }

    @Test func streamingGivesTheSameRowsInBatchesAndStopsWhenTheReaderDoes() async throws {
        let path = try XLSWorkbookTests.fixture("contacts.xlsx")
        let whole = try XLSXWorkbook(path: path).rows(sheet: 0)
        let batches = Batches()
        try await XLSXWorkbook.stream(path: path, batchSize: 2) { rows in batches.append(rows) }
        #expect(batches.all.map(\.count) == [2, 2, 2])
        #expect(batches.all.flatMap { $0 }.map(\.line) == whole.map(\.line) && batches.all.flatMap { $0 }.map(\.fields) == whole.map(\.fields))
        // A reader that gives up after the first batch stops the parse, and its error comes back.
        struct Enough: Error {}
        let seen = Batches()
        await #expect(throws: Enough.self) {
            try await XLSXWorkbook.stream(path: path, batchSize: 2) { rows in
                seen.append(rows)
                throw Enough()
            }
        }
        #expect(seen.all.count == 1)
    }
}

/// Batches handed over by the streaming reader, in order.
final class Batches: @unchecked Sendable {
    private let lock = NSLock()
    private var batches: [[DelimitedTextReader.Row]] = []
    func append(_ rows: [DelimitedTextReader.Row]) { lock.withLock { batches.append(rows) } }
    var all: [[DelimitedTextReader.Row]] { lock.withLock { batches } }
}
