import Audiences
import BSON
import CustomerData
import DataJobs
import Foundation
import Mongo
import Security

/// Syncs of segments' members to external SQL tables, as the panel and the API see them. A new
/// sync is checked at once (it connects and creates or extends its table); job-server runs it on
/// its schedule, and "run now" makes it due.
public struct SegmentSyncService: Sendable {
    let jobs: JobStore
    let segments: SegmentService
    let audit: AuditLog

    public init(jobs: JobStore, segments: SegmentService, audit: AuditLog) {
        self.jobs = jobs
        self.segments = segments
        self.audit = audit
    }

    public func create(for segmentId: String, name: String, url: String, table: String, fields: [String], mode: SegmentSync.Mode,
                       intervalMinutes: Int, by identity: Identity) async throws -> SegmentSync
    {
        try identity.require(.profiles, .export)
        let (segment, database) = try await segments.segment(segmentId, for: identity)
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 100 else { throw InvalidInput("name", "name_required") }
        guard SQLSync.Engine(url: url) != nil else { throw InvalidInput("url", "invalid_setting", "use postgresql://user:password@host:port/database or mysql://…") }
        guard SegmentSync.isValidTable(table) else { throw InvalidInput("table", "invalid_setting", "a table name is letters, digits and _ (optionally schema.table)") }
        guard (1...10_080).contains(intervalMinutes) else { throw InvalidInput("intervalMinutes", "invalid_setting", "every 1 to 10,080 minutes") }
        if let unknown = fields.first(where: { database.field($0) == nil }) { throw InvalidInput("fields", "unknown_field", unknown) }
        let sync = SegmentSync(accountId: identity.account._id, databaseId: database._id, segmentId: segment._id, name: name, url: url, table: table,
                               fields: fields, mode: mode, intervalMinutes: intervalMinutes)
        do {
            try await SQLProbe.prepare(sync)
        } catch {
            throw InvalidInput("url", "invalid_value", "\(error)")
        }
        try await jobs.segmentSyncs.insertOne(sync)
        try await audit.record(identity.actor, "segment_sync.create", kind: "segment", id: segment._id, name: segment.name, changes: [
            .init(field: "url", before: nil, after: SQLSync.redacted(url)), .init(field: "table", before: nil, after: table),
            .init(field: "fields", before: nil, after: fields.joined(separator: ", ")), .init(field: "mode", before: nil, after: mode.rawValue),
            .init(field: "every", before: nil, after: "\(intervalMinutes) min"),
        ])
        return sync
    }

    public func list(for segmentId: String, by identity: Identity) async throws -> [SegmentSync] {
        let (segment, _) = try await segments.segment(segmentId, for: identity)
        return try await jobs.segmentSyncs.find(["accountId": .string(identity.account._id), "segmentId": .string(segment._id)], options: FindOptions(sort: ["name": 1])).collect()
    }

    public func sync(_ id: String, for identity: Identity) async throws -> SegmentSync {
        try identity.require(.profiles, .export)
        guard ObjectId(id) != nil, let sync = try await jobs.segmentSyncs.findOne(["_id": .string(id), "accountId": .string(identity.account._id)]) else {
            throw ObjectNotFound("segment_sync", id)
        }
        return sync
    }

    /// Makes the sync due now; job-server runs it within seconds.
    public func runNow(_ id: String, by identity: Identity) async throws {
        let sync = try await sync(id, for: identity)
        _ = try await jobs.segmentSyncs.updateOne(filter: ["_id": .string(sync._id)], update: ["$set": ["nextRun": 1]])
        try await audit.record(identity.actor, "segment_sync.run", kind: "segment", id: sync.segmentId, name: sync.name)
    }

    public func delete(_ id: String, by identity: Identity) async throws {
        let sync = try await sync(id, for: identity)
        _ = try await jobs.segmentSyncs.deleteOne(["_id": .string(sync._id), "accountId": .string(identity.account._id)])
        try await audit.record(identity.actor, "segment_sync.delete", kind: "segment", id: sync.segmentId, name: sync.name)
    }
}
