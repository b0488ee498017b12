import BSON
import Foundation

/// A scheduled sync of a segment's members to a table of an external PostgreSQL or MySQL/MariaDB
/// database: `profile_id` plus the chosen fields as text columns. A full sync rewrites the table
/// in one transaction; an incremental one writes the members that are new or changed since the
/// last run and deletes the rows of those who left.
public struct SegmentSync: Codable, Sendable, Equatable {
    public enum Mode: String, Codable, Sendable, CaseIterable { case full, incremental }

    /// What the last run did.
    public struct Run: Codable, Sendable, Equatable {
        public var at: Date
        public var succeeded: Bool
        /// Rows inserted or updated.
        public var written: Int
        public var deleted: Int
        public var message: String
    }

    public var _id: String
    public var accountId: String
    public var databaseId: String
    public var segmentId: String
    public var name: String
    public var engine: SQLSync.Engine
    /// `postgresql://…` or `mysql://…` — a secret, never shown back in full.
    public var url: String
    /// The table written (created when missing; missing columns are added).
    public var table: String
    /// The field keys written, each as a text column of its name.
    public var fields: [String]
    public var mode: Mode
    public var intervalMinutes: Int
    /// 0 pauses the schedule (Unix seconds of the next run otherwise).
    public var nextRun: Int64
    /// When the last successful run started: an incremental run writes profiles changed since.
    public var syncedFrom: Date?
    public var lastRun: Run?
    public var createdAt: Date

    public init(accountId: String, databaseId: String, segmentId: String, name: String, url: String, table: String, fields: [String], mode: Mode, intervalMinutes: Int) {
        _id = ObjectId().hex
        self.accountId = accountId
        self.databaseId = databaseId
        self.segmentId = segmentId
        self.name = name
        engine = SQLSync.Engine(url: url) ?? .postgresql
        self.url = url
        self.table = table
        self.fields = fields
        self.mode = mode
        self.intervalMinutes = intervalMinutes
        nextRun = Int64(Date().timeIntervalSince1970)
        createdAt = Date()
    }

    /// A table name the sync accepts: letters, digits and `_`, optionally `schema.table`.
    public static func isValidTable(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return (1...2).contains(parts.count) && parts.allSatisfy { part in
            guard let first = part.unicodeScalars.first, part.count <= 63 else { return false }
            return (CharacterSet.letters.contains(first) || first == "_") && part.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }
        }
    }
}
