import CMariaDB
import Foundation

/// A connection to a MySQL or MariaDB database that an SQL sync reads from (MariaDB Connector/C;
/// the `MYSQL` handle is owned here and closed on deinit). Blocking; one user at a time.
final class MariaDBSource: @unchecked Sendable {
    // @unchecked Sendable: Connector/C allows a connection to move between threads as long as two
    // never use it at once; its one user awaits each call before the next.
    private let connection: UnsafeMutablePointer<MYSQL>

    /// `url`: `mysql://user:password@host:port/database` (or `mariadb://`).
    init(url: String, timeoutSeconds: Int = 10) throws {
        guard let parts = URLComponents(string: url), let host = parts.host, let database = parts.path.split(separator: "/").first.map(String.init) else {
            throw PostgresSource.Failure(message: "use mysql://user:password@host:port/database")
        }
        guard let connection = mysql_init(nil) else { throw PostgresSource.Failure(message: "cannot allocate a MariaDB connection") }
        self.connection = connection
        var timeout = UInt32(timeoutSeconds)
        mysql_options(connection, MYSQL_OPT_CONNECT_TIMEOUT, &timeout)
        mysql_options(connection, MYSQL_SET_CHARSET_NAME, "utf8mb4")
        let user = parts.user?.removingPercentEncoding, password = parts.password?.removingPercentEncoding
        guard mysql_real_connect(connection, host, user, password, database, UInt32(parts.port ?? 3306), nil, 0) != nil else {
            let message = String(cString: mysql_error(connection))
            mysql_close(connection)
            throw PostgresSource.Failure(message: "cannot connect to MariaDB: \(message)")
        }
    }

    deinit { mysql_close(connection) }

    /// A value as a quoted string literal for this connection's character set.
    func literal(_ value: String) -> String {
        let bytes = Array(value.utf8)
        var escaped = [CChar](repeating: 0, count: bytes.count * 2 + 1)
        let length = bytes.withUnsafeBufferPointer { input in
            input.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(1, bytes.count)) {
                mysql_real_escape_string(connection, &escaped, $0, UInt(bytes.count))
            }
        }
        return "'" + String(decoding: escaped.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self) + "'"
    }

    /// Runs `sql`; returns the column names and the rows (nil for NULL).
    func query(_ sql: String) throws -> (columns: [String], rows: [[String?]]) {
        guard mysql_real_query(connection, sql, UInt(sql.utf8.count)) == 0 else {
            throw PostgresSource.Failure(message: "MariaDB refused the query: \(String(cString: mysql_error(connection)))")
        }
        guard let result = mysql_store_result(connection) else { return ([], []) }
        defer { mysql_free_result(result) }
        let count = Int(mysql_num_fields(result))
        let fields = mysql_fetch_fields(result)!
        let columns = (0..<count).map { String(cString: fields[$0].name) }
        var rows: [[String?]] = []
        while let row = mysql_fetch_row(result) {
            let lengths = mysql_fetch_lengths(result)!
            rows.append((0..<count).map { index in
                guard let cell = row[index] else { return nil }
                return cell.withMemoryRebound(to: UInt8.self, capacity: Int(lengths[index])) {
                    String(decoding: UnsafeBufferPointer(start: $0, count: Int(lengths[index])), as: UTF8.self)
                }
            })
        }
        return (columns, rows)
    }
}
