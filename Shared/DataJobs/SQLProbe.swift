import NIOPosix

/// Checks an SQL sync against its database before it is saved.
public enum SQLProbe {
    /// Connects to a segment sync's database and creates or extends its table.
    public static func prepare(_ sync: SegmentSync) async throws {
        try await NIOThreadPool.singleton.runIfActive { try SQLTarget(sync: sync, timeoutSeconds: 5).prepare() }
    }

    /// The query's columns (it runs with LIMIT 1).
    public static func columns(of sync: SQLSync) async throws -> [String] {
        try await NIOThreadPool.singleton.runIfActive {
            try SQLSource(sync: sync, timeoutSeconds: 5).page(of: SQLSync.probing(sync), after: nil, limit: nil).columns
        }
    }
}

extension SQLSync {
    /// The sync's query limited to one row, for a probe.
    static func probing(_ sync: SQLSync) -> SQLSync {
        var probe = sync
        probe.query = "SELECT * FROM (\(sync.query)) AS herald_probe LIMIT 1"
        return probe
    }
}
