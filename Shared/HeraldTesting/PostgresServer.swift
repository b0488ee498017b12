import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A throw-away PostgreSQL server (Debian's `postgresql`) on a free loopback port, run as the
/// `postgres` user (PostgreSQL refuses root) with its data in a temporary folder that ``stop()``
/// removes. The superuser `postgres` needs no password (trust on loopback).
public final class PostgresServer: @unchecked Sendable {
    // @unchecked Sendable: every stored property is a constant.
    public let port: Int
    public let folder: URL
    private let process: ChildProcess
    static let bin = "/usr/lib/postgresql/15/bin"

    public var url: String { "postgresql://postgres@127.0.0.1:\(port)/postgres" }

    public init() async throws {
        folder = URL(fileURLWithPath: "/tmp/herald-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let data = folder.appendingPathComponent("data").path
        func asPostgres(_ arguments: [String]) throws -> ChildProcess {
            try ChildProcess(executable: "/usr/bin/setpriv", arguments: ["--reuid=postgres", "--regid=postgres", "--init-groups", "--"] + arguments)
        }
        let chown = try ChildProcess(executable: "/bin/chown", arguments: ["postgres:postgres", folder.path])
        _ = await chown.waitForExit(timeout: .seconds(10))
        let initdb = try asPostgres(["\(Self.bin)/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"])
        guard await initdb.waitForExit(timeout: .seconds(120)) == 0 else { throw TestServerError(message: "initdb failed: \(initdb.output)") }
        port = FreePort.next()
        process = try asPostgres(["\(Self.bin)/postgres", "-D", data, "-p", String(port), "-k", folder.path, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
        for _ in 0..<300 {
            if FreePort.accepts(port) { return }
            if process.exitStatus != nil { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        process.send(SIGKILL)
        throw TestServerError(message: "postgres did not start on port \(port): \(process.output)")
    }

    /// Runs SQL through psql; throws with psql's output when it fails.
    public func execute(_ sql: String) async throws {
        let psql = try ChildProcess(executable: "/usr/bin/psql", arguments: [url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        guard await psql.waitForExit(timeout: .seconds(30)) == 0 else { throw TestServerError(message: "psql failed: \(psql.output)") }
    }

    /// Runs a query through psql; its rows, the columns split at tabs (NULL is empty).
    public func rows(_ sql: String) async throws -> [[String]] {
        let psql = try ChildProcess(executable: "/usr/bin/psql", arguments: [url, "-v", "ON_ERROR_STOP=1", "-q", "-A", "-t", "-F", "\t", "-c", sql])
        guard await psql.waitForExit(timeout: .seconds(30)) == 0 else { throw TestServerError(message: "psql failed: \(psql.output)") }
        return psql.output.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    /// Stops the server (a fast shutdown) and removes its folder.
    public func stop() async {
        process.send(SIGINT)
        if await process.waitForExit(timeout: .seconds(20)) == nil { process.send(SIGKILL) }
        try? FileManager.default.removeItem(at: folder)
    }
}
