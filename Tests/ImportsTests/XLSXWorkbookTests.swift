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
}
