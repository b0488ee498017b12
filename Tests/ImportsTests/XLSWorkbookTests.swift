import Foundation
import Imports
import Testing

@Suite("XLS workbooks")
struct XLSWorkbookTests {
    static func fixture(_ name: String) throws -> String {
        try #require(Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil)).path
    }

    /// contacts.xls was written by xlwt, a real spreadsheet writer (Fixtures/make_fixtures.py).
    @Test func readsSheetsTextNumbersAndDates() throws {
        let book = try XLSWorkbook(path: try Self.fixture("contacts.xls"))
        #expect(book.sheetNames == ["Контакты", "Empty"])
        let rows = try book.rows(sheet: 0)
        #expect(rows.map(\.line) == [1, 2, 3, 4])
        #expect(rows[0].fields == ["email", "first_name", "city", "orders", "spent", "birthday"])
        #expect(rows[1].fields == ["ann@example.com", "Анна", "Москва", "3", "1534.75", "1990-01-15"])
        #expect(rows[2].fields == ["bob@example.com", "Bob", "Köln", "0", "0", ""])
        #expect(rows[3].fields == ["cid@example.com", "", "Berlin", "12", "99.5", "1985-12-31"])
        #expect(try book.rows(sheet: 1).isEmpty)
        #expect(throws: ImportFileError.self) { try book.rows(sheet: 2) }
    }

    @Test func aFileThatIsNotAWorkbookGetsAClearError() throws {
        #expect {
            _ = try XLSWorkbook(path: try Self.fixture("garbage.xls"))
        } throws: { error in
            (error as? ImportFileError)?.message.hasPrefix("this is not an Excel 97–2003 (.xls) workbook") == true
        }
        #expect {
            _ = try XLSWorkbook(path: "/nonexistent/contacts.xls")
        } throws: { ($0 as? ImportFileError)?.message == "the file does not exist" }
    }
}
