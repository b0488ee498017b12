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

    public init(settings: MongoDatabase, customers: MongoDatabase) {
        campaigns = settings.collection(Campaign.collectionName, of: Campaign.self)
        runs = settings.collection(CampaignRun.collectionName, of: CampaignRun.self)
        sends = customers.collection(SendRecord.collectionName, of: SendRecord.self)
        sendingDomains = settings.collection("sending_domains", of: BSONDocument.self)
    }

    public func prepare() async throws {
        try await campaigns.createIndexes([IndexModel(keys: ["accountId": 1, "updatedAt": -1], name: "account_updated"),
                                           IndexModel(keys: ["status": 1], name: "status")])
        try await runs.createIndexes([IndexModel(keys: ["campaignId": 1, "number": -1], name: "campaign_number"),
                                      IndexModel(keys: ["status": 1, "resumeAt": 1], name: "status_resume")])
        try await sends.createIndexes([IndexModel(keys: ["runId": 1, "status": 1], name: "run_status"),
                                       IndexModel(keys: ["campaignId": 1, "createdAt": -1], name: "campaign_created"),
                                       IndexModel(keys: ["profileId": 1, "createdAt": -1], name: "profile_created")])
    }

    public func save(_ run: CampaignRun) async throws {
        var run = run
        run.updatedAt = Date()
        _ = try await runs.replaceOne(filter: ["_id": .string(run._id)], replacement: run, upsert: true)
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
        do {
            _ = try await sends.insertMany(messages.map(\.record), ordered: false)
        } catch let error as MongoError where error.code == .duplicateKey {
            // Some were written by an earlier attempt at this batch.
        }
        let ids = messages.map { BSONValue.string($0.record._id) }
        var done = Set<String>()
        for try await record in sends.find(["_id": ["$in": .array(ids)]]) where record.status != .pending { done.insert(record._id) }
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

    /// How long a campaign must wait before its next batch to keep within its limits; nil when it may go on.
    public func limitWait(_ campaign: Campaign, batch: Int, now: Date = Date()) async throws -> TimeInterval? {
        for (limit, window) in [(campaign.limits.perHour, 3600.0), (campaign.limits.perDay, 86_400.0)] {
            guard let limit else { continue }
            let sent = try await sends.countDocuments(["$and": [["campaignId": .string(campaign._id)], ["createdAt": ["$gte": .date(now.addingTimeInterval(-window))]]]])
            if sent >= limit { return min(window / 12, 600) }
        }
        return nil
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
