import BSON
import Foundation

/// An export of a profile database to a file, made by job-server and downloaded from control.
public struct ExportJob: Codable, Sendable, Equatable {
    public enum Format: String, Codable, Sendable, CaseIterable { case csv, xlsx }

    public var _id: String
    public var accountId: String
    public var databaseId: String
    public var createdBy: String
    public var format: Format
    /// Only this segment's profiles, when set (its name is kept for the list of exports).
    public var segmentId: String?
    public var segmentName: String?
    public var state: ImportJob.State
    /// Profiles written so far.
    public var written: Int64
    public var size: Int64
    public var chunkCount: Int
    public var message: String
    public var createdAt: Date
    public var finishedAt: Date?

    public init(accountId: String, databaseId: String, createdBy: String, format: Format) {
        _id = ObjectId().hex
        self.accountId = accountId
        self.databaseId = databaseId
        self.createdBy = createdBy
        self.format = format
        state = .queued
        written = 0
        size = 0
        chunkCount = 0
        message = ""
        createdAt = Date()
    }

    /// The file name a download gets.
    public func fileName(database: String) -> String {
        let safe = database.map { $0.isLetter || $0.isNumber ? $0 : "-" }
        return "\(String(safe))-\(createdAt.formatted(.iso8601.year().month().day())).\(format.rawValue)"
    }
}
