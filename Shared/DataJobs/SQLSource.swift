/// What an SQL sync reads from, whatever the engine: one page of rows past a cursor value.
struct SQLSource: Sendable {
    let engine: SQLSync.Engine
    let postgres: PostgresSource?
    let mariadb: MariaDBSource?

    init(sync: SQLSync, timeoutSeconds: Int = 10) throws {
        engine = sync.engine
        switch sync.engine {
        case .postgresql:
            postgres = try PostgresSource(url: sync.url, timeoutSeconds: timeoutSeconds)
            mariadb = nil
        case .mysql:
            mariadb = try MariaDBSource(url: sync.url, timeoutSeconds: timeoutSeconds)
            postgres = nil
        }
    }

    /// `SELECT * FROM (<query>) AS herald_source [WHERE <cursor> > <after>] ORDER BY <cursor> LIMIT <limit>`.
    func page(of sync: SQLSync, after cursor: String?, limit: Int?) throws -> (columns: [String], rows: [[String?]]) {
        let column = "herald_source." + engine.quote(sync.cursorColumn)
        let base = "SELECT * FROM (\(sync.query)) AS herald_source"
        let tail = limit.map { " ORDER BY \(column) LIMIT \($0)" } ?? ""
        if let postgres {
            return try postgres.query(base + (cursor == nil ? "" : " WHERE \(column) > $1") + tail, parameters: cursor.map { [$0] } ?? [])
        }
        let mariadb = mariadb!
        return try mariadb.query(base + (cursor.map { " WHERE \(column) > \(mariadb.literal($0))" } ?? "") + tail)
    }
}
