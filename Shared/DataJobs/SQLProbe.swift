import NIOPosix

/// Checks an SQL sync against its database before it is saved.
public enum SQLProbe {
    /// The query's columns (it runs with LIMIT 1).
    public static func columns(of sync: SQLSync) async throws -> [String] {
        try await NIOThreadPool.singleton.runIfActive {
            let source = try PostgresSource(url: sync.url, timeoutSeconds: 5)
            return try source.query("SELECT * FROM (\(sync.query)) AS herald_source LIMIT 1").columns
        }
    }
}
