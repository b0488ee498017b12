import AMQP
import BSON
import Contracts
import Foundation
import Mongo
import ServiceSupport
import SwiftProtobuf

/// Where campaigns, their runs and the send log live, and the store operations a sending needs:
/// publishing each recipient's message once, limits, the frequency cap, the return-path domain.
public struct CampaignStore: Sendable {
    public let campaigns: MongoCollection<Campaign>
    public let runs: MongoCollection<CampaignRun>
    public let sends: MongoCollection<SendRecord>
    let sendingDomains: MongoCollection<BSONDocument>
    public let limits: MongoCollection<AccountLimits>
    let stopList: MongoCollection<BSONDocument>
    /// The profiles' activity (customer data), where conversions are found.
    let activity: MongoCollection<BSONDocument>

    public init(settings: MongoDatabase, customers: MongoDatabase) {
        campaigns = settings.collection(Campaign.collectionName, of: Campaign.self)
        runs = settings.collection(CampaignRun.collectionName, of: CampaignRun.self)
        sends = customers.collection(SendRecord.collectionName, of: SendRecord.self)
        sendingDomains = settings.collection("sending_domains", of: BSONDocument.self)
        limits = settings.collection(AccountLimits.collectionName, of: AccountLimits.self)
        stopList = settings.collection("stop_list", of: BSONDocument.self)
        activity = customers.collection("activity", of: BSONDocument.self)
    }

    public func prepare() async throws {
        try await campaigns.createIndexes([IndexModel(keys: ["accountId": 1, "updatedAt": -1], name: "account_updated"),
                                           IndexModel(keys: ["status": 1], name: "status")])
        try await runs.createIndexes([IndexModel(keys: ["campaignId": 1, "number": -1], name: "campaign_number"),
                                      IndexModel(keys: ["status": 1, "resumeAt": 1], name: "status_resume")])
        try await sends.createIndexes([IndexModel(keys: ["runId": 1, "status": 1], name: "run_status"),
                                       IndexModel(keys: ["campaignId": 1, "createdAt": -1], name: "campaign_created"),
                                       IndexModel(keys: ["profileId": 1, "createdAt": -1], name: "profile_created"),
                                       IndexModel(keys: ["accountId": 1, "createdAt": -1], name: "account_created")])
    }

    public func save(_ run: CampaignRun) async throws {
        var run = run
        run.updatedAt = Date()
        _ = try await runs.replaceOne(filter: ["_id": .string(run._id)], replacement: run, upsert: true)
    }

    /// Saves a run only while its stored status is one of `statuses`, so that a pause or a cancel
    /// made in the panel meanwhile is never overwritten. False when it was not saved.
    @discardableResult
    public func save(_ run: CampaignRun, ifStatus statuses: [CampaignRun.Status]) async throws -> Bool {
        var run = run
        run.updatedAt = Date()
        let filter: BSONDocument = ["$and": [["_id": .string(run._id)], ["status": ["$in": .array(statuses.map { .string($0.rawValue) })]]]]
        return try await runs.replaceOne(filter: filter, replacement: run).matchedCount == 1
    }

    /// A run's progress after a batch — checkpoint and counts — leaving its status as the panel may have set it.
    public func saveProgress(_ run: CampaignRun) async throws {
        var skipped = BSONDocument()
        for (reason, count) in run.skipped.sorted(by: { $0.key < $1.key }) { skipped.append(reason, .int64(Int64(count))) }
        _ = try await runs.updateOne(filter: ["_id": .string(run._id)], update: [
            "$set": ["checkpoint": .string(run.checkpoint), "queued": .int64(Int64(run.queued)), "failed": .int64(Int64(run.failed)), "skipped": .document(skipped)],
            "$currentDate": ["updatedAt": true],
        ])
    }

    public func setStatus(_ campaign: Campaign, _ status: Campaign.Status, lastRun: String? = nil) async throws {
        var set: BSONDocument = ["status": .string(status.rawValue)]
        if let lastRun { set["lastRunId"] = .string(lastRun) }
        // `$currentDate`, not a date in `$set`: nx-27017 stores a `$set` date as a string (docs/development.md).
        _ = try await campaigns.updateOne(filter: ["_id": .string(campaign._id)], update: ["$set": .document(set), "$currentDate": ["updatedAt": true]])
    }

    /// Publishes each message whose recipient has none in the send log yet (or one that was
    /// written and never confirmed), then marks them queued. Returns how many were published.
    /// A message due later (`notBefore`) waits in the email delay queues.
    public func publishOnce(_ messages: [(record: SendRecord, delivery: Herald_Delivery_V1_EmailDelivery, notBefore: Date?)], amqp: AMQPConnection,
                            transactional: Bool = false) async throws -> Int {
        guard !messages.isEmpty else { return 0 }
        var done = Set<String>()
        do {
            _ = try await sends.insertMany(messages.map(\.record), ordered: false)
        } catch let error as MongoError where error.code == .duplicateKey {
            // Some were written by an earlier attempt at this batch: those already queued are not published again.
            let ids = messages.map { BSONValue.string($0.record._id) }
            for try await record in sends.find(["_id": ["$in": .array(ids)]]) where record.status != .pending { done.insert(record._id) }
        }
        let due = messages.filter { !done.contains($0.record._id) }
        guard !due.isEmpty else { return 0 }
        try await amqp.publish(contentsOf: due.map { message in
            let body = (try? message.delivery.serializedBytes()) ?? []
            let properties = AMQPProperties(messageId: message.delivery.meta.eventID, type: "herald.delivery.v1.EmailDelivery",
                                            contentType: "application/x-protobuf", appId: message.delivery.meta.producer, timestamp: Date(), persistent: true)
            if let notBefore = message.notBefore {
                return EmailDelay.parking(body: body, properties: properties, notBefore: notBefore, attempts: 0, firstAttemptAt: notBefore)
            }
            return AMQPMessage(exchange: BusExchange.delivery, routingKey: transactional ? BusRoutingKey.transactionalEmail : BusRoutingKey.bulkEmail,
                               body: body, properties: properties)
        })
        _ = try await sends.updateMany(filter: ["_id": ["$in": .array(due.map { .string($0.record._id) })], "status": "pending"],
                                       update: ["$set": ["status": "queued"], "$currentDate": ["updatedAt": true]])
        return due.count
    }

    /// How long a campaign must wait before its next batch to keep within its own limits and its
    /// account's (per hour, per day, the ramp-up's allowance for today), nil when it may go on; and
    /// how many more messages may go now (nil: no limit).
    public func room(for campaign: Campaign, now: Date = Date()) async throws -> (wait: TimeInterval?, left: Int?) {
        var left: Int?
        func take(_ limit: Int?, sent: () async throws -> Int) async throws -> Bool {
            guard let limit else { return true }
            let remaining = limit - (try await sent())
            left = min(left ?? remaining, remaining)
            return remaining > 0
        }
        for (limit, window) in [(campaign.limits.perHour, 3600.0), (campaign.limits.perDay, 86_400.0)] {
            let since = now.addingTimeInterval(-window)
            if !(try await take(limit) { try await sends.countDocuments(["$and": [["campaignId": .string(campaign._id)], ["observer": false], ["createdAt": ["$gte": .date(since)]]]]) }) {
                return (min(window / 12, 600), 0)
            }
        }
        if let account = try await limits.findOne(["_id": .string(campaign.accountId)]) {
            let hourAgo = now.addingTimeInterval(-3600)
            if !(try await take(account.perHour) { try await sends.countDocuments(["$and": [["accountId": .string(campaign.accountId)], ["observer": false], ["createdAt": ["$gte": .date(hourAgo)]]]]) }) {
                return (300, 0)
            }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = .gmt
            let today = calendar.startOfDay(for: now)
            if !(try await take(account.dailyAllowance) { try await sends.countDocuments(["$and": [["accountId": .string(campaign.accountId)], ["observer": false], ["createdAt": ["$gte": .date(today)]]]]) }) {
                return (max(60, today.addingTimeInterval(86_400).timeIntervalSince(now)), 0)
            }
        }
        return (nil, left)
    }

    /// The campaign as it sends: with the account's IP pool when it names none of its own.
    public func withAccountPool(_ campaign: Campaign) async throws -> Campaign {
        guard campaign.ipPool.isEmpty, let pool = try await limits.findOne(["_id": .string(campaign.accountId)])?.ipPool, !pool.isEmpty else { return campaign }
        var campaign = campaign
        campaign.ipPool = pool
        return campaign
    }

    /// Moves every account's ramp-up to today: yesterday's sent, bounced and complained counts decide
    /// today's allowance. Returns the accounts whose allowance changed.
    @discardableResult
    public func advanceRampUps(now: Date = Date()) async throws -> [String] {
        let today = RampUp.dayString(now)
        var changed: [String] = []
        for var account in try await limits.find().collect() {
            guard var ramp = account.rampUp, ramp.day != today else { continue }
            let formatter = ISO8601DateFormatter()
            guard let start = formatter.date(from: ramp.day + "T00:00:00Z") else { continue }
            let end = start.addingTimeInterval(86_400)
            let inDay: [BSONValue] = [["accountId": .string(account._id)], ["observer": false], ["createdAt": ["$gte": .date(start)]], ["createdAt": ["$lt": .date(end)]]]
            let sent = try await sends.countDocuments(["$and": .array(inDay)])
            let bounced = try await sends.countDocuments(["$and": .array(inDay + [["status": "bounced"]])])
            let complained = try await stopList.countDocuments(["$and": [["accountId": .string(account._id)], ["source": "complaint"],
                                                                          ["createdAt": ["$gte": .date(start)]], ["createdAt": ["$lt": .date(end)]]]])
            let before = ramp.allowance
            ramp.advance(to: today, sent: sent, bounced: bounced, complained: complained)
            account.rampUp = ramp
            _ = try await limits.replaceOne(filter: ["_id": .string(account._id)], replacement: account)
            if ramp.allowance != before { changed.append(account._id) }
        }
        return changed
    }

    /// Of `profileIds`, those that already got `cap` messages in the policy's window (other runs).
    public func overCap(_ profileIds: [String], policies: SendingPolicies, excludingRun run: String, now: Date = Date()) async throws -> Set<String> {
        guard let cap = policies.frequencyCap, !profileIds.isEmpty else { return [] }
        let since = now.addingTimeInterval(-Double(policies.frequencyDays) * 86_400)
        let pipeline: [BSONDocument] = [
            ["$match": ["$and": [["profileId": ["$in": .array(profileIds.map { .string($0) })]], ["createdAt": ["$gte": .date(since)]],
                                 ["observer": false], ["status": ["$in": ["queued", "delivered", "deferred"]]]]]],
            ["$group": ["_id": ["profile": "$profileId", "run": "$runId"]]],
        ]
        var counts: [String: Int] = [:]
        for try await row in sends.aggregate(pipeline) {
            guard case .document(let id)? = row["_id"], case .string(let profile)? = id["profile"], case .string(let r)? = id["run"], r != run else { continue }
            counts[profile, default: 0] += 1
        }
        return Set(counts.filter { $0.value >= cap }.keys)
    }

    /// The VERP return path's domain of a sending domain (its own setting, or `bounces.<domain>`).
    public func returnPathDomain(for domain: String) async throws -> String {
        if let document = try await sendingDomains.findOne(["_id": .string(domain)]), case .string(let host)? = document["returnPathDomain"], !host.isEmpty {
            return host
        }
        return "bounces.\(domain)"
    }
}
