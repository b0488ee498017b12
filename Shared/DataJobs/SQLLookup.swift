import Foundation
import NIOPosix

/// One parameterised query against an external PostgreSQL or MySQL/MariaDB database, for a
/// template's data source: its rows as column → text (nil for NULL). The server stops the
/// statement after `timeoutMilliseconds` (PostgreSQL `statement_timeout`, MariaDB
/// `max_statement_time`); connecting waits at most as long. Runs on NIO's thread pool.
public enum SQLLookup {
    public static func rows(url: String, query: String, parameters: [String?], timeoutMilliseconds: Int) async throws -> [[String: String?]] {
        guard let engine = SQLSync.Engine(url: url) else { throw PostgresSource.Failure(message: "use postgresql://… or mysql://…") }
        let seconds = max(1, (timeoutMilliseconds + 999) / 1000)
        return try await NIOThreadPool.singleton.runIfActive {
            let (columns, rows): ([String], [[String?]])
            switch engine {
            case .postgresql:
                let connection = try PostgresSource(url: url, timeoutSeconds: seconds)
                _ = try connection.query("SET statement_timeout = \(max(1, timeoutMilliseconds))")
                (columns, rows) = try connection.query(query, parameters: parameters)
            case .mysql:
                let connection = try MariaDBSource(url: url, timeoutSeconds: seconds)
                _ = try connection.query("SET SESSION max_statement_time = \(Double(max(1, timeoutMilliseconds)) / 1000)")
                var text = query
                for (index, value) in parameters.enumerated().reversed() {
                    text = text.replacingOccurrences(of: "$\(index + 1)", with: value.map { connection.literal($0) } ?? "NULL")
                }
                (columns, rows) = try connection.query(text)
            }
            return rows.map { row in Dictionary(uniqueKeysWithValues: zip(columns, row).map { ($0, $1) }) }
        }
    }
}
