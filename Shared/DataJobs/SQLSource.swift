/// What an SQL sync reads from, whatever the engine: one page of rows past a cursor value.
struct SQLSource: Sendable {
    let connection: SQLConnection

    init(sync: SQLSync, timeoutSeconds: Int = 10) throws {
        connection = try SQLConnection(url: sync.url, timeoutSeconds: timeoutSeconds)
    }

    /// `SELECT * FROM (<query>) AS herald_source [WHERE <cursor> > <after>] ORDER BY <cursor> LIMIT <limit>`.
    func page(of sync: SQLSync, after cursor: String?, limit: Int?) throws -> (columns: [String], rows: [[String?]]) {
        let column = "herald_source." + connection.engine.quote(sync.cursorColumn)
        let base = "SELECT * FROM (\(sync.query)) AS herald_source"
        let tail = limit.map { " ORDER BY \(column) LIMIT \($0)" } ?? ""
        return try connection.query(base + (cursor == nil ? "" : " WHERE \(column) > $1") + tail, cursor.map { [$0] } ?? [])
    }
}
