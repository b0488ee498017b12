import CPostgres
import Foundation

/// A connection to a PostgreSQL database that an SQL sync reads from (`PGconn`, owned here and
/// closed on deinit). Blocking; used from one thread at a time.
final class PostgresSource: @unchecked Sendable {
    // @unchecked Sendable: libpq allows a connection to move between threads as long as two never
    // use it at once; its one user awaits each call before the next.
    private let connection: OpaquePointer

    struct Failure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// `url`: `postgresql://user:password@host:port/database` (libpq's connection URI).
    init(url: String, timeoutSeconds: Int = 10) throws {
        let withTimeout = url.contains("connect_timeout") ? url : url + (url.contains("?") ? "&" : "?") + "connect_timeout=\(timeoutSeconds)"
        guard let connection = PQconnectdb(withTimeout) else { throw Failure(message: "cannot allocate a PostgreSQL connection") }
        self.connection = connection
        guard PQstatus(connection) == CONNECTION_OK else {
            throw Failure(message: "cannot connect to PostgreSQL: \(String(cString: PQerrorMessage(connection)).trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }

    deinit { PQfinish(connection) }

    /// Runs `sql` with text parameters (nil for NULL); returns the column names and the rows (nil for NULL).
    func query(_ sql: String, parameters: [String?] = []) throws -> (columns: [String], rows: [[String?]]) {
        var cParameters: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { for pointer in cParameters { free(pointer) } }
        let result = cParameters.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: max(1, buffer.count)) { pointer in
                PQexecParams(connection, sql, Int32(parameters.count), nil, parameters.isEmpty ? nil : pointer, nil, nil, 0)
            }
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else {
            throw Failure(message: "PostgreSQL refused the query: \(String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let columnCount = PQnfields(result), rowCount = PQntuples(result)
        let columns = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
        var rows: [[String?]] = []
        rows.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            rows.append((0..<columnCount).map { column in
                PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
            })
        }
        return (columns, rows)
    }
}
