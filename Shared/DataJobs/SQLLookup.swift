import Foundation
import NIOPosix

/// One parameterised query against an external PostgreSQL or MySQL/MariaDB database, for a
/// template's data source: its rows as column → text (nil for NULL). The server stops the
/// statement after `timeoutMilliseconds` (PostgreSQL `statement_timeout`, MariaDB
/// `max_statement_time`); connecting waits at most as long. Runs on NIO's thread pool.
public enum SQLLookup {
    public static func rows(url: String, query: String, parameters: [String?], timeoutMilliseconds: Int) async throws -> [[String: String?]] {
        let seconds = max(1, (timeoutMilliseconds + 999) / 1000)
        return try await NIOThreadPool.singleton.runIfActive {
            let connection = try SQLConnection(url: url, timeoutSeconds: seconds)
            try connection.limitStatements(toMilliseconds: timeoutMilliseconds)
            let (columns, rows) = try connection.query(query, parameters)
            return rows.map { row in Dictionary(uniqueKeysWithValues: zip(columns, row).map { ($0, $1) }) }
        }
    }
}
