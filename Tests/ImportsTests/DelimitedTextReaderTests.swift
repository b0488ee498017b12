import Imports
import Testing

func readAll(_ bytes: [UInt8], chunk: Int = .max, delimiter: Character? = nil) -> (rows: [DelimitedTextReader.Row], problems: [DelimitedTextReader.Problem], reader: DelimitedTextReader) {
    var reader = DelimitedTextReader(delimiter: delimiter)
    var rows: [DelimitedTextReader.Row] = []
    var problems: [DelimitedTextReader.Problem] = []
    var start = 0
    while start < bytes.count {
        let end = min(bytes.count, start + chunk)
        let (r, p) = reader.feed(bytes[start..<end])
        rows += r
        problems += p
        start = end
    }
    let (r, p) = reader.finish()
    return (rows + r, problems + p, reader)
}

@Suite("Delimited text import")
struct DelimitedTextReaderTests {
    @Test func quotedFieldsDoubledQuotesAndLineBreaks() {
        let csv = "email,name,note\r\nann@example.com,\"Smith, Ann\",\"said \"\"hi\"\"\"\r\nbob@example.com,Bob,\"two\nlines\"\n\ncid@example.com,,\n"
        let (rows, problems, reader) = readAll(Array(csv.utf8))
        #expect(problems.isEmpty)
        #expect(reader.delimiter == UInt8(ascii: ","))
        #expect(rows.map(\.line) == [1, 2, 3, 6])
        #expect(rows[1].fields == ["ann@example.com", "Smith, Ann", "said \"hi\""])
        #expect(rows[2].fields == ["bob@example.com", "Bob", "two\nlines"])
        #expect(rows[3].fields == ["cid@example.com", "", ""])
    }

    @Test func windows1251WithSemicolonsIsDetected() {
        // "Имя;Город\r\nАнна;Москва\r\n" as Excel saves it on a Russian Windows.
        let bytes: [UInt8] = [0xC8, 0xEC, 0xFF, 0x3B, 0xC3, 0xEE, 0xF0, 0xEE, 0xE4, 0x0D, 0x0A,
                              0xC0, 0xED, 0xED, 0xE0, 0x3B, 0xCC, 0xEE, 0xF1, 0xEA, 0xE2, 0xE0, 0x0D, 0x0A]
        let (rows, problems, reader) = readAll(bytes)
        #expect(problems.isEmpty)
        #expect(reader.encoding == .windows1251)
        #expect(reader.delimiter == UInt8(ascii: ";"))
        #expect(rows.map(\.fields) == [["Имя", "Город"], ["Анна", "Москва"]])
    }

    @Test func utf8ByteOrderMarkAndTabs() {
        let (rows, _, reader) = readAll([0xEF, 0xBB, 0xBF] + Array("имя\tгород\nАнна\tKöln\n".utf8))
        #expect(reader.encoding == .utf8)
        #expect(reader.delimiter == 9)
        #expect(rows.map(\.fields) == [["имя", "город"], ["Анна", "Köln"]])
    }

    @Test func streamingGivesTheSameRowsWhateverTheChunks() {
        let csv = Array("a;b;c\n\"x;1\";\"y\"\"\";z\r\nп;р;с\n\"multi\nline\";2;3\n".utf8)
        let whole = readAll(csv)
        for chunk in [1, 2, 3, 5, 7, 64] {
            let parts = readAll(csv, chunk: chunk)
            #expect(parts.rows == whole.rows, "chunk \(chunk)")
            #expect(parts.problems == whole.problems)
        }
        #expect(whole.rows.count == 4)
        #expect(whole.rows[3] == .init(line: 4, fields: ["multi\nline", "2", "3"]))
    }

    @Test func badRowsAreReportedByLineAndTheRestIsRead() {
        let csv = "email,name\nann@example.com,\"Ann\"x\nbob@example.com,Bob\ncid@example.com,\"never closed\n"
        let (rows, problems, _) = readAll(Array(csv.utf8))
        #expect(rows.map(\.line) == [1, 3])
        #expect(problems.map(\.line) == [2, 4])
        #expect(problems[0].message.hasPrefix("text after a closing quote"))
        #expect(problems[1].description == "line 4: a quoted field is not closed before the end of the file; close it with \"")
    }

    @Test func forcedDelimiter() {
        let (rows, _, _) = readAll(Array("a|b,c\n".utf8), delimiter: "|")
        #expect(rows.first?.fields == ["a", "b,c"])
    }
}
