import Foundation

/// A table of an external PostgreSQL or MySQL/MariaDB database that a segment sync writes:
/// `profile_id` as the primary key and text columns. Blocking, like the connections it uses;
/// run from a job.
struct SQLTarget: Sendable {
    let connection: SQLConnection
    let table: String
    let columns: [String]

    var engine: SQLSync.Engine { connection.engine }

    init(sync: SegmentSync, timeoutSeconds: Int = 10) throws {
        connection = try SQLConnection(url: sync.url, timeoutSeconds: timeoutSeconds)
        let engine = connection.engine
        table = sync.table.split(separator: ".").map { engine.quote(String($0)) }.joined(separator: ".")
        columns = sync.fields
    }

    @discardableResult
    func run(_ sql: String, _ parameters: [String?] = []) throws -> [[String?]] {
        try connection.query(sql, parameters).rows
    }

    /// Creates the table when it is missing and adds the columns it lacks.
    func prepare() throws {
        let key = engine == .mysql ? "VARCHAR(64)" : "TEXT"
        try run("CREATE TABLE IF NOT EXISTS \(table) (\(engine.quote("profile_id")) \(key) PRIMARY KEY"
            + columns.map { ", \(engine.quote($0)) TEXT" }.joined() + ")")
        for column in columns {
            try run("ALTER TABLE \(table) ADD COLUMN IF NOT EXISTS \(engine.quote(column)) TEXT")
        }
    }

    func begin() throws { try run(engine == .mysql ? "START TRANSACTION" : "BEGIN") }
    func commit() throws { try run("COMMIT") }
    func rollback() { _ = try? run("ROLLBACK") }

    func ids() throws -> Set<String> {
        Set(try run("SELECT \(engine.quote("profile_id")) FROM \(table)").compactMap { $0.first ?? nil })
    }

    func deleteAll() throws { try run("DELETE FROM \(table)") }

    /// Inserts or replaces rows of `profile_id` followed by the columns' values.
    func upsert(_ rows: [[String?]]) throws {
        guard !rows.isEmpty else { return }
        let width = columns.count + 1
        let names = (["profile_id"] + columns).map(engine.quote).joined(separator: ", ")
        let values = rows.indices.map { row in "(" + (0..<width).map { "$\(row * width + $0 + 1)" }.joined(separator: ", ") + ")" }.joined(separator: ", ")
        let update = columns.isEmpty
            ? (engine == .mysql ? " ON DUPLICATE KEY UPDATE \(engine.quote("profile_id")) = \(engine.quote("profile_id"))" : " ON CONFLICT (\(engine.quote("profile_id"))) DO NOTHING")
            : engine == .mysql
                ? " ON DUPLICATE KEY UPDATE " + columns.map { "\(engine.quote($0)) = VALUES(\(engine.quote($0)))" }.joined(separator: ", ")
                : " ON CONFLICT (\(engine.quote("profile_id"))) DO UPDATE SET " + columns.map { "\(engine.quote($0)) = EXCLUDED.\(engine.quote($0))" }.joined(separator: ", ")
        try run("INSERT INTO \(table) (\(names)) VALUES \(values)\(update)", rows.flatMap { $0 })
    }

    func delete(_ ids: [String]) throws {
        guard !ids.isEmpty else { return }
        try run("DELETE FROM \(table) WHERE \(engine.quote("profile_id")) IN (" + ids.indices.map { "$\($0 + 1)" }.joined(separator: ", ") + ")", ids)
    }
}
