/// A connection to an external PostgreSQL or MySQL/MariaDB database, whatever the engine:
/// statements take `$1`, `$2`… parameters (bound by libpq; escaped as literals for MariaDB,
/// last first so `$10` is not read as `$1`). Blocking; used from one thread at a time.
struct SQLConnection: Sendable {
    let engine: SQLSync.Engine
    private let postgres: PostgresSource?
    private let mariadb: MariaDBSource?

    init(url: String, timeoutSeconds: Int = 10) throws {
        guard let engine = SQLSync.Engine(url: url) else { throw PostgresSource.Failure(message: "use postgresql://user:password@host:port/database or mysql://…") }
        self.engine = engine
        switch engine {
        case .postgresql:
            postgres = try PostgresSource(url: url, timeoutSeconds: timeoutSeconds)
            mariadb = nil
        case .mysql:
            mariadb = try MariaDBSource(url: url, timeoutSeconds: timeoutSeconds)
            postgres = nil
        }
    }

    @discardableResult
    func query(_ sql: String, _ parameters: [String?] = []) throws -> (columns: [String], rows: [[String?]]) {
        if let postgres { return try postgres.query(sql, parameters: parameters) }
        let mariadb = mariadb!
        var text = sql
        for (index, value) in parameters.enumerated().reversed() {
            text = text.replacingOccurrences(of: "$\(index + 1)", with: value.map { mariadb.literal($0) } ?? "NULL")
        }
        return try mariadb.query(text)
    }

    /// Stops every later statement of this connection after `milliseconds`.
    func limitStatements(toMilliseconds milliseconds: Int) throws {
        let value = max(1, milliseconds)
        try query(engine == .mysql ? "SET SESSION max_statement_time = \(Double(value) / 1000)" : "SET statement_timeout = \(value)")
    }
}
