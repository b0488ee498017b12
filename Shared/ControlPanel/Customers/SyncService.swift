import BSON
import CustomerData
import DataJobs
import Foundation
import Mongo
import Security

/// Scheduled imports from external SQL databases, as the panel and the API see them. A new sync
/// is checked against its database at once (the query runs with LIMIT 1: the cursor column and
/// every mapped column must be there); job-server runs it on its schedule.
public struct SyncService: Sendable {
    let jobs: JobStore
    let customers: CustomerDataService
    let audit: AuditLog

    public init(jobs: JobStore, customers: CustomerDataService, audit: AuditLog) {
        self.jobs = jobs
        self.customers = customers
        self.audit = audit
    }

    public func create(in databaseId: String, name: String, url: String, query: String, cursorColumn: String, mapping: [String: String],
                       mode: ProfileWriter.Mode, intervalMinutes: Int, cron: String? = nil, timeZone: String? = nil, by identity: Identity) async throws -> SQLSync
    {
        try identity.require(.profiles, .import)
        if mode != .add { try identity.require(.profiles, .edit) }
        let database = try await customers.database(databaseId, for: identity)
        var sync = SQLSync(accountId: identity.account._id, databaseId: database._id, name: name.trimmingCharacters(in: .whitespaces), url: url,
                           query: query.trimmingCharacters(in: .whitespacesAndNewlines), cursorColumn: cursorColumn, mapping: mapping, mode: mode,
                           intervalMinutes: intervalMinutes)
        sync.cron = cron.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        sync.timeZone = timeZone.flatMap { $0.isEmpty ? nil : $0 }
        // With a cron-like schedule the first run is its first time; otherwise at once.
        if sync.cron != nil { sync.nextRun = sync.nextRun(after: Date()) }
        if let problem = sync.problems().first { throw InvalidInput(problem.field, "invalid_setting", problem.message) }
        for (column, field) in mapping where database.field(field) == nil { throw InvalidInput("mapping", "unknown_field", "\(column) → \(field)") }
        let columns: [String]
        do {
            columns = try await SQLProbe.columns(of: sync)
        } catch {
            throw InvalidInput("url", "invalid_value", "\(error)")
        }
        if !columns.contains(cursorColumn) { throw InvalidInput("cursorColumn", "invalid_value", "the query has no column '\(cursorColumn)'; it has \(columns.joined(separator: ", "))") }
        if let missing = mapping.keys.sorted().first(where: { !columns.contains($0) }) {
            throw InvalidInput("mapping", "invalid_value", "the query has no column '\(missing)'; it has \(columns.joined(separator: ", "))")
        }
        try await jobs.syncs.insertOne(sync)
        try await audit.record(identity.actor, "sync.create", kind: "sync", id: sync._id, name: sync.name, changes: [
            .init(field: "url", before: nil, after: sync.redactedURL), .init(field: "query", before: nil, after: sync.query),
            .init(field: "every", before: nil, after: sync.cron.map { "cron \($0) (\(sync.timeZone ?? "UTC"))" } ?? "\(intervalMinutes) min"),
        ])
        return sync
    }

    public func list(in databaseId: String, for identity: Identity) async throws -> [SQLSync] {
        let database = try await customers.database(databaseId, for: identity)
        return try await jobs.syncs.find(["accountId": .string(identity.account._id), "databaseId": .string(database._id)], options: FindOptions(sort: ["name": 1])).collect()
    }

    public func sync(_ id: String, for identity: Identity) async throws -> SQLSync {
        try identity.require(.profiles, .import)
        guard ObjectId(id) != nil, let sync = try await jobs.syncs.findOne(["_id": .string(id), "accountId": .string(identity.account._id)]) else {
            throw ObjectNotFound("sync", id)
        }
        return sync
    }

    /// Makes the sync due now; job-server runs it within seconds.
    public func runNow(_ id: String, by identity: Identity) async throws {
        let sync = try await sync(id, for: identity)
        _ = try await jobs.syncs.updateOne(filter: ["_id": .string(sync._id)], update: ["$set": ["nextRun": 1]])
        try await audit.record(identity.actor, "sync.run", kind: "sync", id: sync._id, name: sync.name)
    }

    public func delete(_ id: String, by identity: Identity) async throws {
        let sync = try await sync(id, for: identity)
        _ = try await jobs.syncs.deleteOne(["_id": .string(sync._id), "accountId": .string(identity.account._id)])
        try await audit.record(identity.actor, "sync.delete", kind: "sync", id: sync._id, name: sync.name)
    }
}
