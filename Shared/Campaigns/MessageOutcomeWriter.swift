import AMQP
import BSON
import Contracts
import DataJobs
import Foundation
import Logging
import Mongo
import ServiceLifecycle
import ServiceSupport
import SwiftProtobuf

/// job-server's writer of message outcomes (`events.messages`, every `message.*` event): brings
/// each message's send-log entry up to date — status, attempts, the last reply — and puts the
/// outcome on the profile's timeline, where a hard bounce also marks the subscription bounced and
/// stop-lists the address. One bulk write and one activity write per batch of events.
public struct MessageOutcomeWriter: Service {
    let amqp: AMQPConnection
    let queue: String
    let sends: MongoCollection<SendRecord>
    let activity: ActivityWriter
    let logger: Logger

    public init(amqp: AMQPConnection, queue: String = "events.messages", sends: MongoCollection<SendRecord>, activity: ActivityWriter, logger: Logger) {
        self.amqp = amqp
        self.queue = queue
        self.sends = sends
        self.activity = activity
        self.logger = logger
    }

    public func run() async throws {
        try await QueueConsumer.batches(amqp: amqp, queue: queue, prefetch: 500, logger: logger) { await handle($0) }
    }

    func handle(_ batch: [AMQPDelivery]) async {
        var events: [Herald_Events_V1_MessageEvent] = []
        for delivery in batch {
            if delivery.properties.type == "herald.events.v1.MessageEventBatch", let decoded = try? Herald_Events_V1_MessageEventBatch(serializedBytes: delivery.body) {
                events += decoded.events
            } else if let event = try? Herald_Events_V1_MessageEvent(serializedBytes: delivery.body) {
                events.append(event)
            } else {
                logger.error("a message that is not a MessageEvent; dead-lettered", metadata: ["amqp.routing_key": "\(delivery.routingKey)"])
                delivery.reject(requeue: false)
            }
        }
        do {
            try await write(events)
            batch.last?.ack(multiple: true)
        } catch {
            logger.error("outcomes not written; they will be delivered again", metadata: ["events": "\(events.count)", "error": "\(error)"])
            batch.last?.nack(requeue: true, multiple: true)
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Updates the send log and the profiles' timelines for `events`.
    public func write(_ events: [Herald_Events_V1_MessageEvent]) async throws {
        var operations: [BulkWriteOperation<SendRecord>] = []
        for event in events where !event.messageID.isEmpty {
            guard let status = Self.status(of: event.kind) else { continue }
            let set: BSONDocument = ["status": .string(status.rawValue), "lastReply": .string(event.reply)]
            // `$currentDate` (the time it is written, seconds after the event): nx-27017 stores a `$set` date as a string.
            var now: BSONDocument = ["updatedAt": true]
            if event.kind == .delivered { now["deliveredAt"] = true }
            // A late deferral never overwrites a final outcome (delivery is at least once).
            let open: BSONValue = .array(["pending", "queued", "deferred"])
            operations.append(.updateOne(filter: ["$and": [["_id": .string(event.messageID)], ["status": ["$in": status == .deferred ? open : .array(open.arrayValue! + [.string(status.rawValue)])]]]],
                                         update: ["$set": .document(set), "$currentDate": .document(now), "$max": ["attempts": .int64(Int64(event.attempt))]]))
        }
        if !operations.isEmpty { _ = try await sends.bulkWrite(operations, ordered: false) }

        // The timeline: every outcome but deferrals (which end in one of the others).
        let timeline = events.filter { $0.kind != .deferred && !$0.profile.profileID.isEmpty }.map(Self.activity)
        if !timeline.isEmpty { try await activity.write(timeline) }
    }

    static func status(of kind: Herald_Events_V1_MessageEvent.Kind) -> SendRecord.Status? {
        switch kind {
        case .delivered, .sent: .delivered
        case .deferred: .deferred
        case .bounced: .bounced
        case .failed: .failed
        case .expired: .expired
        default: nil
        }
    }

    static func activity(_ event: Herald_Events_V1_MessageEvent) -> Herald_Events_V1_ActivityEvent {
        var activity = Herald_Events_V1_ActivityEvent()
        activity.meta = event.meta
        activity.databaseID = event.profile.databaseID
        activity.profileID = event.profile.profileID
        activity.kind = "message.\(String(describing: event.kind))"
        activity.source = event.meta.producer
        var fields: [String: Google_Protobuf_Value] = [
            "message": .init(stringValue: event.messageID), "campaign": .init(stringValue: event.campaignID), "channel": .init(stringValue: "email"),
            "address": .init(stringValue: event.recipient), "reply": .init(stringValue: event.reply),
        ]
        if !event.variantID.isEmpty { fields["variant"] = .init(stringValue: event.variantID) }
        if !event.resource.isEmpty { fields["resource"] = .init(stringValue: event.resource) }
        if event.hasBounce {
            fields["reason"] = .init(stringValue: event.bounce.reason)
            if event.kind == .bounced { fields["bounce"] = .init(stringValue: event.bounce.hard ? "hard" : "soft") }
            if !event.bounce.enhancedStatus.isEmpty { fields["status"] = .init(stringValue: event.bounce.enhancedStatus) }
        }
        activity.properties = Google_Protobuf_Struct(fields: fields)
        return activity
    }
}
