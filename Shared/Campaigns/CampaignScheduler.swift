import AMQP
import BSON
import Contracts
import Foundation
import Logging
import Mongo
import ServiceLifecycle
import ServiceSupport

/// job-server's clock for campaigns: starts one-offs at their time and regular campaigns' runs on
/// their schedule, wakes runs that waited for a limit, and decides A/B tests whose wait is over
/// (sending the winner to the rest). Every step claims its campaign or run with a conditional
/// update, so several job-servers never start the same run twice.
public struct CampaignScheduler: Service {
    let store: CampaignStore
    let amqp: AMQPConnection
    let logger: Logger
    let interval: Duration

    public init(store: CampaignStore, amqp: AMQPConnection, logger: Logger, interval: Duration = .seconds(5)) {
        self.store = store
        self.amqp = amqp
        self.logger = logger
        self.interval = interval
    }

    public func run() async throws {
        await Periodically.run(every: interval, logger: logger, failure: "campaign schedule round failed") { try await tick() }
    }

    /// One round: everything due now.
    public func tick(now: Date = Date()) async throws {
        // Ramp-ups move to a new day first, so today's allowance is known before anything runs.
        for account in try await store.advanceRampUps(now: now) {
            logger.info("ramp-up allowance changed", metadata: ["account.id": "\(account)"])
        }
        // One-offs at their time.
        for campaign in try await store.campaigns.find(["$and": [["status": "scheduled"], ["kind": "one-off"]]]).collect() {
            guard let at = campaign.schedule.at, at <= now else { continue }
            guard try await claim(campaign, from: .scheduled, to: .sending) else { continue }
            try await start(campaign, scheduledFor: at)
        }
        // Regular campaigns' next runs.
        for campaign in try await store.campaigns.find(["$and": [["status": "scheduled"], ["kind": "regular"]]]).collect() {
            // The first run is due at the schedule's time; later ones at `nextRunAt`.
            guard let due = campaign.schedule.nextRunAt ?? campaign.schedule.at, due <= now else { continue }
            let next = campaign.schedule.next(after: now) ?? now.addingTimeInterval(86_400)
            // Claimed by replacing the campaign as it was read (nx-27017 cannot `$set` a date).
            var claimed = campaign
            claimed.schedule.nextRunAt = next
            claimed.status = .sending
            var filter: BSONDocument = ["_id": .string(campaign._id), "status": "scheduled"]
            if let previous = campaign.schedule.nextRunAt { filter["schedule.nextRunAt"] = .date(previous) }
            guard try await store.campaigns.replaceOne(filter: filter, replacement: claimed).matchedCount == 1 else { continue }
            try await start(campaign, scheduledFor: due)
        }
        // Runs that waited for a limit.
        for run in try await store.runs.find(["$and": [["status": "waiting"], ["resumeAt": ["$lte": .date(now)]]]]).collect() {
            guard try await store.runs.findOneAndUpdate(filter: ["_id": .string(run._id), "status": "waiting"], update: ["$set": ["status": "queued"]]) != nil else { continue }
            try await launch(run)
        }
        // A/B tests whose wait is over: the winner goes to the rest.
        for run in try await store.runs.find(["$and": [["status": "testing"], ["resumeAt": ["$lte": .date(now)]]]]).collect() {
            guard var campaign = try await store.campaigns.findOne(["_id": .string(run.campaignId)]), var test = campaign.test else { continue }
            guard let claimed = try await store.runs.findOneAndUpdate(filter: ["_id": .string(run._id), "status": "testing"],
                                                                      update: ["$set": ["status": "queued", "phase": "winner", "checkpoint": ""]]) else { continue }
            let results = try await CampaignResults(store: store).variants(of: run._id, conversionEvent: test.metric == .conversions ? test.conversionEvent : nil)
            test.winner = SplitTest.winner(of: results, by: test.metric) ?? campaign.variants.first?.id
            test.decidedAt = now
            campaign.test = test
            _ = try await store.campaigns.replaceOne(filter: ["_id": .string(campaign._id)], replacement: campaign)
            try await store.setStatus(campaign, .sending)
            logger.info("A/B test decided", metadata: ["campaign.id": "\(campaign._id)", "winner": "\(test.winner ?? "")"])
            try await launch(claimed)
        }
    }

    /// A new run of `campaign`, and its launch.
    func start(_ campaign: Campaign, scheduledFor: Date) async throws {
        let number = try await store.runs.countDocuments(["campaignId": .string(campaign._id)]) + 1
        let run = CampaignRun(campaign: campaign, number: number, scheduledFor: scheduledFor)
        try await store.save(run)
        _ = try await store.campaigns.updateOne(filter: ["_id": .string(campaign._id)], update: ["$set": ["lastRunId": .string(run._id)]])
        try await launch(run)
    }

    func claim(_ campaign: Campaign, from: Campaign.Status, to: Campaign.Status) async throws -> Bool {
        try await store.campaigns.findOneAndUpdate(filter: ["_id": .string(campaign._id), "status": .string(from.rawValue)],
                                                   update: ["$set": ["status": .string(to.rawValue), "updatedAt": .date(Date())]]) != nil
    }

    /// Asks a job-server to expand the run (`jobs.campaign.launch`).
    public func launch(_ run: CampaignRun) async throws {
        try await CampaignLaunch.publish(run, amqp: amqp)
    }
}

/// The job request that makes a job-server expand a run; control and the scheduler both send it.
public enum CampaignLaunch {
    public static func publish(_ run: CampaignRun, amqp: AMQPConnection) async throws {
        var request = Herald_Jobs_V1_JobRequest()
        request.meta = .new(account: run.accountId, producer: "campaigns")
        request.jobID = run._id
        var launch = Herald_Jobs_V1_CampaignLaunch()
        launch.campaignID = run.campaignId
        launch.runID = run._id
        request.kind = .campaignLaunch(launch)
        try await amqp.publish(AMQPMessage(exchange: BusExchange.jobs, routingKey: "campaign.launch", body: try request.serializedBytes(),
                                           messageId: request.meta.eventID, type: "herald.jobs.v1.JobRequest"))
    }
}
