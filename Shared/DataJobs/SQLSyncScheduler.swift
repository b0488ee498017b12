import BSON
import Foundation
import Logging
import Mongo
import ServiceLifecycle
import ServiceSupport

/// job-server's clock for SQL syncs: every few seconds it takes the syncs that are due — imports
/// from SQL and segment syncs to SQL — moves each one's next run on (a claim only one job-server
/// wins), and runs it (an import as an import job).
public struct SQLSyncScheduler: Service {
    let runner: ImportRunner
    let segmentRunner: SegmentSyncRunner?
    let tick: Duration
    let logger: Logger

    public init(runner: ImportRunner, segmentRunner: SegmentSyncRunner? = nil, tick: Duration = .seconds(5), logger: Logger) {
        self.runner = runner
        self.segmentRunner = segmentRunner
        self.tick = tick
        self.logger = logger
    }

    public func run() async throws {
        await Periodically.run(every: tick, logger: logger, failure: "SQL sync scheduler: could not read the due syncs") { try await runDue() }
    }

    /// Runs every sync that is due now; returns how many ran.
    @discardableResult
    public func runDue(now: Date = Date()) async throws -> Int {
        let seconds = Int64(now.timeIntervalSince1970)
        let due = try await runner.jobs.syncs.find(["nextRun": ["$gt": 0, "$lte": .int64(seconds)]]).collect()
        var ran = 0
        for sync in due {
            let next = sync.nextRun(after: now)
            let claim = try await runner.jobs.syncs.updateOne(filter: ["_id": .string(sync._id), "nextRun": .int64(sync.nextRun)],
                                                              update: ["$set": ["nextRun": .int64(next)]])
            guard claim.matchedCount == 1 else { continue }  // another job-server took it
            var job = ImportJob(accountId: sync.accountId, databaseId: sync.databaseId, createdBy: "schedule", fileName: sync.name, format: .sql)
            job.syncId = sync._id
            job.mode = sync.mode
            job.state = .queued
            try await runner.jobs.jobs.insertOne(job)
            _ = try await runner.jobs.syncs.updateOne(filter: ["_id": .string(sync._id)], update: ["$set": ["lastJobId": .string(job._id)]])
            try await runner.run(jobId: job._id)
            ran += 1
        }
        if let segmentRunner {
            for sync in try await runner.jobs.segmentSyncs.find(["nextRun": ["$gt": 0, "$lte": .int64(seconds)]]).collect() {
                let claim = try await runner.jobs.segmentSyncs.updateOne(filter: ["_id": .string(sync._id), "nextRun": .int64(sync.nextRun)],
                                                                         update: ["$set": ["nextRun": .int64(seconds + Int64(sync.intervalMinutes) * 60)]])
                guard claim.matchedCount == 1 else { continue }
                try await segmentRunner.run(syncId: sync._id)
                ran += 1
            }
        }
        return ran
    }
}
