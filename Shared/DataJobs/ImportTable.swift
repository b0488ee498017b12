import BSON
import CustomerData
import Foundation
import Imports
import Mongo
import NIOPosix
import ServiceSupport

/// The rows of an uploaded file, whatever its format: CSV and TXT are read as they stream in,
/// spreadsheets from a temporary copy. A file that is not what it claims is refused before any
/// row is read, with a message that says what it is.
public enum ImportTable {
    public struct Batch: Sendable {
        public var rows: [DelimitedTextReader.Row]
        public var problems: [DelimitedTextReader.Problem]
    }

    public struct Preview: Sendable {
        public var header: [String]
        public var rows: [[String]]
        public var problems: [String]
        /// For CSV/TXT: what was detected.
        public var delimiter: String?
        public var encoding: String?
    }

    /// A file that cannot be imported as the format it was given.
    public struct WrongFile: Error, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Refuses what is plainly not text before a CSV/TXT import reads it.
    static func checkText(_ sample: [UInt8], fileName: String) throws(WrongFile) {
        if sample.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            throw WrongFile(message: "\(fileName) is a ZIP archive (an XLSX workbook?), not delimited text; choose the XLSX format or save it as CSV")
        }
        if sample.starts(with: [0xD0, 0xCF, 0x11, 0xE0]) {
            throw WrongFile(message: "\(fileName) is an Excel 97–2003 workbook, not delimited text; choose the XLS format or save it as CSV")
        }
        let head = sample.prefix(65536)
        let control = head.filter { $0 < 0x09 || ($0 > 0x0D && $0 < 0x20) }.count
        if head.contains(0) || (head.count > 0 && control * 100 > head.count) {
            throw WrongFile(message: "\(fileName) is binary data, not delimited text; export it as CSV (UTF-8 or Windows-1251) and upload that")
        }
    }

    /// All rows, in batches of about `size`, each read when the importer is ready for it (so memory
    /// stays flat whatever the file's size).
    public static func batches(of job: ImportJob, in store: JobStore, size: Int = 1000) -> BoundedStream<Batch> {
        BoundedStream { yield in
            do {
                switch job.format {
                case .csv, .txt:
                    var reader = DelimitedTextReader(delimiter: job.format == .txt ? "\t" : nil)
                    var pending = Batch(rows: [], problems: [])
                    var first = true
                    for try await chunk in store.file(of: job) {
                        if first {
                            try checkText(chunk, fileName: job.fileName)
                            first = false
                        }
                        let (rows, problems) = reader.feed(chunk)
                        pending.rows += rows
                        pending.problems += problems
                        if pending.rows.count >= size {
                            try await yield(pending)
                            pending = Batch(rows: [], problems: [])
                        }
                    }
                    let (rows, problems) = reader.finish()
                    pending.rows += rows
                    pending.problems += problems
                    if !pending.rows.isEmpty || !pending.problems.isEmpty { try await yield(pending) }
                case .profiles, .sql:
                    throw WrongFile(message: "a copy or an SQL sync reads its source, not a file")
                case .xls:
                    // An XLS sheet holds at most 65,536 rows (the format's limit): read whole.
                    let url = try await store.temporaryCopy(of: job)
                    defer { try? FileManager.default.removeItem(at: url) }
                    let workbook = try XLSWorkbook(path: url.path)
                    defer { workbook.close() }
                    let rows = try workbook.rows()
                    for start in stride(from: 0, to: rows.count, by: size) {
                        try await yield(Batch(rows: Array(rows[start..<min(start + size, rows.count)]), problems: []))
                    }
                case .xlsx:
                    // The sheet is parsed as it is read, on a thread of its own that waits while the importer catches up.
                    let url = try await store.temporaryCopy(of: job)
                    defer { try? FileManager.default.removeItem(at: url) }
                    try await XLSXWorkbook.stream(path: url.path, batchSize: size) { rows in try await yield(Batch(rows: rows, problems: [])) }
                }
            } catch let error as ImportFileError {
                throw WrongFile(message: "\(job.fileName): \(error.message)")
            }
        }
    }

    /// A database's profiles as a table: the field keys as the header, then each profile's values
    /// in the forms an import reads (what an export writes), read from a cursor.
    /// `filter` narrows them (a segment's members); all of the database's when nil.
    public static func batches(of source: ProfileDatabase, in store: ProfileStore, filter: BSONDocument? = nil, size: Int = 1000, limit: Int? = nil) -> BoundedStream<Batch> {
        BoundedStream { yield in
            let keys = source.fields.map(\.key)
            var pending = Batch(rows: [DelimitedTextReader.Row(line: 1, fields: keys)], problems: [])
            var line = 1
            let cursor = store.profiles.find(filter ?? ["accountId": .string(source.accountId), "databaseId": .string(source._id)],
                                             options: FindOptions(sort: ["_id": 1], limit: limit, batchSize: size))
            for try await profile in cursor {
                line += 1
                pending.rows.append(DelimitedTextReader.Row(line: line, fields: keys.map { StoredValueText.text(profile[field: $0]) }))
                if pending.rows.count >= size {
                    try await yield(pending)
                    pending = Batch(rows: [], problems: [])
                }
            }
            if !pending.rows.isEmpty { try await yield(pending) }
        }
    }

    /// An SQL sync's new rows: the query's columns as the header, then the rows past the cursor in
    /// pages of `size`, ordered by the cursor column (libpq or Connector/C, on NIO's blocking pool).
    public static func batches(of sync: SQLSync, size: Int = 1000) -> BoundedStream<Batch> {
        BoundedStream { yield in
            do {
                let source = try await NIOThreadPool.singleton.runIfActive { try SQLSource(sync: sync) }
                var cursor = sync.lastCursor
                var line = 1
                var headerSent = false
                while true {
                    let after = cursor
                    let (columns, rows) = try await NIOThreadPool.singleton.runIfActive { try source.page(of: sync, after: after, limit: size) }
                    guard let cursorIndex = columns.firstIndex(of: sync.cursorColumn) else {
                        throw WrongFile(message: "the query has no column '\(sync.cursorColumn)' to follow")
                    }
                    var batch = Batch(rows: [], problems: [])
                    if !headerSent {
                        batch.rows.append(DelimitedTextReader.Row(line: 1, fields: columns))
                        headerSent = true
                    }
                    for row in rows {
                        line += 1
                        batch.rows.append(DelimitedTextReader.Row(line: line, fields: row.map { $0 ?? "" }))
                    }
                    if let last = rows.last?[cursorIndex] { cursor = last }
                    try await yield(batch)
                    if rows.count < size { break }
                }
                withExtendedLifetime(source) {}
            } catch let error as PostgresSource.Failure {
                throw WrongFile(message: error.message)
            }
        }
    }

    /// The header and the first rows, for the mapping page.
    public static func preview(of job: ImportJob, in store: JobStore, source: (ProfileDatabase, ProfileStore)? = nil, rows count: Int = 10) async throws -> Preview {
        var rows: [[String]] = [], problems: [String] = []
        let stream = source.map { batches(of: $0.0, in: $0.1, size: count + 1, limit: count) } ?? batches(of: job, in: store, size: count + 1)
        for try await batch in stream {
            rows += batch.rows.map(\.fields)
            problems += batch.problems.map(\.description)
            if rows.count > count { break }
        }
        let header = job.hasHeader ? (rows.first ?? []) : (0..<(rows.map(\.count).max() ?? 0)).map { "column \($0 + 1)" }
        let body = Array((job.hasHeader ? rows.dropFirst() : rows[...]).prefix(count))
        return Preview(header: header, rows: body, problems: problems, delimiter: nil, encoding: nil)
    }
}
