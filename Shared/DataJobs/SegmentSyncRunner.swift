import Audiences
import BSON
import CustomerData
import Foundation
import Logging
import Mongo
import NIOPosix

/// Runs segment syncs (``SegmentSync``): the segment's members, read from the store with the
/// segment's own query, written to the external table in batches of 200 rows. The blocking
/// database calls run on NIO's thread pool, off the cooperative threads.
public struct SegmentSyncRunner: Sendable {
    let syncs: MongoCollection<SegmentSync>
    let databases: MongoCollection<ProfileDatabase>
    let profiles: ProfileStore
    let logger: Logger

    public init(jobs: JobStore, databases: MongoCollection<ProfileDatabase>, profiles: ProfileStore, logger: Logger) {
        syncs = jobs.segmentSyncs
        self.databases = databases
        self.profiles = profiles
        self.logger = logger
    }

    /// Runs the sync now; records and returns what the run did.
    @discardableResult
    public func run(syncId: String) async throws -> SegmentSync.Run {
        guard let sync = try await syncs.findOne(["_id": .string(syncId)]) else { throw PostgresSource.Failure(message: "no segment sync \(syncId)") }
        let started = Date()
        var run = SegmentSync.Run(at: started, succeeded: false, written: 0, deleted: 0, message: "")
        do {
            guard let database = try await databases.findOne(["_id": .string(sync.databaseId), "accountId": .string(sync.accountId)]) else {
                throw PostgresSource.Failure(message: "the profile database no longer exists")
            }
            let filter = try await AudienceQuery(database: profiles.profiles.database)
                .filter(ofSegment: sync.segmentId, in: database, segments: databases.database.collection(Segment.collectionName, of: Segment.self))
            let target = try await NIOThreadPool.singleton.runIfActive { try SQLTarget(sync: sync) }
            try await NIOThreadPool.singleton.runIfActive { try target.prepare() }
            let incremental = sync.mode == .incremental && sync.syncedFrom != nil
            let existing = incremental ? try await NIOThreadPool.singleton.runIfActive { try target.ids() } : []
            if !incremental { try await NIOThreadPool.singleton.runIfActive { try target.begin(); try target.deleteAll() } }
            var seen = Set<String>(), batch: [[String?]] = []
            do {
                for try await profile in profiles.profiles.find(filter, options: FindOptions(sort: ["_id": 1], batchSize: 1000)) {
                    seen.insert(profile._id)
                    if incremental, existing.contains(profile._id), let from = sync.syncedFrom, profile.updatedAt < from { continue }
                    batch.append([profile._id] + sync.fields.map { key in profile[field: key].map { StoredValueText.text($0) } })
                    if batch.count == 200 {
                        let rows = batch
                        try await NIOThreadPool.singleton.runIfActive { try target.upsert(rows) }
                        run.written += rows.count
                        batch.removeAll()
                    }
                }
                let rows = batch
                try await NIOThreadPool.singleton.runIfActive { try target.upsert(rows) }
                run.written += rows.count
                if incremental {
                    let gone = Array(existing.subtracting(seen)).sorted()
                    for start in stride(from: 0, to: gone.count, by: 500) {
                        let ids = Array(gone[start..<min(start + 500, gone.count)])
                        try await NIOThreadPool.singleton.runIfActive { try target.delete(ids) }
                    }
                    run.deleted = gone.count
                } else {
                    try await NIOThreadPool.singleton.runIfActive { try target.commit() }
                }
            } catch {
                if !incremental { target.rollback() }
                throw error
            }
            run.succeeded = true
            run.message = "\(seen.count) members; \(run.written) rows written, \(run.deleted) deleted"
            try await record(run, of: sync._id, syncedFrom: started.addingTimeInterval(-1))
        } catch {
            run.message = "the sync stopped: \(error)"
            logger.warning("segment sync failed", metadata: ["sync": "\(sync._id)", "error": "\(error)"])
            try await record(run, of: sync._id, syncedFrom: nil)
        }
        return run
    }

    /// Keeps what the run did, writing the whole typed document (nx-27017 stores a date or a
    /// boolean given to `$set` at the top level as text or a number).
    func record(_ run: SegmentSync.Run, of id: String, syncedFrom: Date?) async throws {
        guard var current = try await syncs.findOne(["_id": .string(id)]) else { return }
        current.lastRun = run
        if let syncedFrom { current.syncedFrom = syncedFrom }
        _ = try await syncs.replaceOne(filter: ["_id": .string(id)], replacement: current)
    }
}
