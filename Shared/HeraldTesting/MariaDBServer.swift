import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A throw-away MariaDB server (Debian's `mariadb-server`) on a free loopback port with its data
/// in a temporary folder that ``stop()`` removes, and a database `shop` that the user `herald`
/// (password `secret`) may use.
public final class MariaDBServer: @unchecked Sendable {
    // @unchecked Sendable: every stored property is a constant.
    public let port: Int
    public let folder: URL
    private let process: ChildProcess

    public var url: String { "mysql://herald:secret@127.0.0.1:\(port)/shop" }
    var socket: String { folder.appendingPathComponent("sock").path }

    public init() async throws {
        folder = URL(fileURLWithPath: "/tmp/herald-my-\(UUID().uuidString.prefix(8))")
        let data = folder.appendingPathComponent("data").path
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let install = try ChildProcess(executable: "/usr/bin/mariadb-install-db", arguments: ["--datadir=\(data)", "--user=root", "--skip-test-db", "--auth-root-authentication-method=socket"])
        guard await install.waitForExit(timeout: .seconds(120)) == 0 else { throw TestServerError(message: "mariadb-install-db failed: \(install.output)") }
        port = FreePort.next()
        process = try ChildProcess(executable: "/usr/sbin/mariadbd", arguments: [
            "--no-defaults", "--datadir=\(data)", "--socket=\(folder.path)/sock", "--port=\(port)", "--bind-address=127.0.0.1", "--user=root",
            "--pid-file=\(folder.path)/pid", "--skip-log-bin", "--innodb-flush-log-at-trx-commit=0", "--character-set-server=utf8mb4",
        ])
        for _ in 0..<300 {
            if FreePort.accepts(port) {
                try await execute("CREATE DATABASE shop CHARACTER SET utf8mb4; CREATE USER 'herald'@'127.0.0.1' IDENTIFIED BY 'secret'; GRANT ALL ON shop.* TO 'herald'@'127.0.0.1';", database: nil)
                return
            }
            if process.exitStatus != nil { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        process.send(SIGKILL)
        throw TestServerError(message: "mariadbd did not start on port \(port): \(process.output)")
    }

    /// Runs SQL as root through the `mariadb` client.
    public func execute(_ sql: String, database: String? = "shop") async throws {
        let client = try ChildProcess(executable: "/usr/bin/mariadb", arguments: ["-S", socket, "-uroot", "--default-character-set=utf8mb4"] + (database.map { [$0] } ?? []) + ["-e", sql])
        guard await client.waitForExit(timeout: .seconds(30)) == 0 else { throw TestServerError(message: "mariadb failed: \(client.output)") }
    }

    /// Runs a query as root; its rows, the columns split at tabs (NULL is `NULL`).
    public func rows(_ sql: String, database: String = "shop") async throws -> [[String]] {
        let client = try ChildProcess(executable: "/usr/bin/mariadb", arguments: ["-S", socket, "-uroot", "--default-character-set=utf8mb4", database, "-N", "-B", "-e", sql])
        guard await client.waitForExit(timeout: .seconds(30)) == 0 else { throw TestServerError(message: "mariadb failed: \(client.output)") }
        return client.output.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    public func stop() async {
        process.send(SIGTERM)
        if await process.waitForExit(timeout: .seconds(30)) == nil { process.send(SIGKILL) }
        try? FileManager.default.removeItem(at: folder)
    }
}
