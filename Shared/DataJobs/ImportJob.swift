import BSON
import CustomerData
import Foundation

/// An import of a file into a profile database: its options, its state and its counters. Made by
/// `control` (upload, preview, mapping), run by `job-server`, watched by both.
public struct ImportJob: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        /// The file is stored; the mapping is not confirmed yet.
        case uploaded
        case queued, running, succeeded, failed, cancelled

        public var isFinished: Bool { self == .succeeded || self == .failed || self == .cancelled }
    }

    public enum Format: String, Codable, Sendable, CaseIterable {
        case csv, txt, xls, xlsx
        /// Another profile database of the account: a copy (``ImportJob/sourceDatabaseId``).
        case profiles
        /// An external SQL database: a run of an ``SQLSync`` (``ImportJob/syncId``).
        case sql

        /// The format a file name says, or nil.
        public init?(fileName: String) {
            let ext = (fileName as NSString).pathExtension.lowercased()
            self.init(rawValue: ext == "tsv" ? "txt" : ext)
        }
    }

    /// Which column goes into which field.
    public struct ColumnMapping: Codable, Sendable, Equatable {
        /// Zero-based column index in the file.
        public var column: Int
        public var header: String
        /// The field key; empty to skip the column.
        public var field: String

        public init(column: Int, header: String, field: String) {
            self.column = column
            self.header = header
            self.field = field
        }
    }

    /// Rows read and what became of them.
    public struct Counters: Codable, Sendable, Equatable {
        public var read: Int64 = 0
        public var created: Int64 = 0
        public var updated: Int64 = 0
        public var unchanged: Int64 = 0
        public var skipped: Int64 = 0
        public var rejected: Int64 = 0

        public init() {}
    }

    public var _id: String
    public var accountId: String
    public var databaseId: String
    public var createdBy: String
    public var fileName: String
    public var format: Format
    public var size: Int64
    public var chunkCount: Int
    public var state: State
    public var mode: ProfileWriter.Mode
    public var hasHeader: Bool
    public var mapping: [ColumnMapping]
    public var counters: Counters
    /// What went wrong (failed), or a summary.
    public var message: String
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    /// Set by a cancel request; the runner stops at the next batch.
    public var cancelRequestedAt: Date?
    /// For a copy: the database the profiles come from.
    public var sourceDatabaseId: String?
    /// For a copy: only this segment's profiles of the source, when set.
    public var sourceSegmentId: String?
    /// For an SQL sync's run: the sync.
    public var syncId: String?

    public init(accountId: String, databaseId: String, createdBy: String, fileName: String, format: Format) {
        _id = ObjectId().hex
        self.accountId = accountId
        self.databaseId = databaseId
        self.createdBy = createdBy
        self.fileName = fileName
        self.format = format
        size = 0
        chunkCount = 0
        state = .uploaded
        mode = .upsert
        hasHeader = true
        mapping = []
        counters = Counters()
        message = ""
        createdAt = Date()
    }
}

/// One rejected row of an import, for the report.
public struct ImportRowError: Codable, Sendable, Equatable {
    public var _id: String
    public var jobId: String
    public var line: Int
    /// The column's header (or number), when one column is at fault.
    public var column: String
    public var reason: String

    public init(jobId: String, line: Int, column: String, reason: String) {
        _id = ObjectId().hex
        self.jobId = jobId
        self.line = line
        self.column = column
        self.reason = reason
    }
}
