import AMQP
import BSON
import Contracts
import CustomerData
import Foundation
import Logging
import Mongo
import ServiceLifecycle
import ServiceSupport
import SwiftProtobuf

/// job-server's activity writer: takes events-API activity from its queue in the batches the
/// broker delivers them in, finds (or creates) each profile by its identifier with one query per
/// identifier field, writes the batch's activity with one insert, and acknowledges the batch
/// with one `multiple` ack. Never a round trip per event.
public struct ActivityWriter: Service {
    /// Told of each batch's profile activity once it is written, with each event's id (campaigns
    /// triggered by an event listen here).
    public typealias Listener = @Sendable (_ written: [(eventId: String, activity: ActivityEvent)]) async -> Void

    let amqp: AMQPConnection
    let queue: String
    let databases: MongoCollection<ProfileDatabase>
    let writer: ProfileWriter
    let listener: Listener?
    let logger: Logger

    public init(amqp: AMQPConnection, queue: String = "events.activity", databases: MongoCollection<ProfileDatabase>, writer: ProfileWriter,
                listener: Listener? = nil, logger: Logger) {
        self.amqp = amqp
        self.queue = queue
        self.databases = databases
        self.writer = writer
        self.listener = listener
        self.logger = logger
    }

    public func run() async throws {
        try await QueueConsumer.batches(amqp: amqp, queue: queue, prefetch: 2000, logger: logger) { await handle($0) }
    }

    func handle(_ batch: [AMQPDelivery]) async {
        var events: [(AMQPDelivery, Herald_Events_V1_ActivityEvent)] = []
        var malformed = 0
        defer {
            if malformed > 0 { logger.error("messages that are not activity; dead-lettered", metadata: ["count": "\(malformed)", "queue": "\(queue)"]) }
        }
        for delivery in batch {
            do {
                if delivery.properties.type == "herald.events.v1.ActivityBatch" {
                    for event in try Herald_Events_V1_ActivityBatch(serializedBytes: delivery.body).events { events.append((delivery, event)) }
                } else {
                    events.append((delivery, try Herald_Events_V1_ActivityEvent(serializedBytes: delivery.body)))
                }
            } catch {
                malformed += 1
                delivery.reject(requeue: false)
            }
        }
        guard let last = events.last?.0 else { return }
        do {
            try await write(events.map(\.1))
            // Batches are handled in delivery order: one `multiple` ack covers this one.
            last.ack(multiple: true)
        } catch {
            logger.error("activity batch not written; it will be delivered again", metadata: ["events": "\(events.count)", "error": "\(error)"])
            last.nack(requeue: true, multiple: true)
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Writes a batch: profiles found or created per database, then all activity in one insert.
    public func write(_ events: [Herald_Events_V1_ActivityEvent]) async throws {
        var activity: [ActivityEvent] = [], anonymous: [ActivityEvent] = []
        var eventIds: [String] = []
        var known: [String: ProfileDatabase] = [:]
        /// Visitors of a site who identified: (database, visitor) → profile.
        var identified: [(database: ProfileDatabase, visitor: String, profileId: String)] = []
        let groups = Dictionary(grouping: events) { "\($0.meta.accountID)\u{0}\($0.databaseID)" }
        for (_, group) in groups {
            guard let first = group.first,
                  let database = try await databases.findOne(["_id": .string(first.databaseID), "accountId": .string(first.meta.accountID)])
            else {
                logger.warning("activity for a database that does not exist; dropped", metadata: ["events": "\(group.count)"])
                continue
            }
            known[database._id] = database
            // Identifier → profile id, creating the profiles no one has yet.
            var rows: [ProfileWriter.Row] = []
            var keys: [String] = []
            for event in group {
                guard case .identifier(let identifier)? = event.profile else { continue }
                let key = Self.key(identifier)
                if !keys.contains(key) {
                    keys.append(key)
                    let value: BSONValue = identifier.value.isEmpty ? .int64(identifier.number) : .string(identifier.value)
                    rows.append(.init(line: 0, values: [(identifier.field, value)]))
                }
            }
            var resolved: [String: String] = [:]
            if !rows.isEmpty {
                for (key, outcome) in zip(keys, try await writer.write(rows, to: database, mode: .upsert, source: "events")) {
                    if let id = outcome.profileId { resolved[key] = id } else { logger.warning("activity for a profile that cannot be made", metadata: ["outcome": "\(outcome)"]) }
                }
            }
            for event in group {
                let profileId: String?
                switch event.profile {
                case .profileID(let id)?: profileId = id
                case .identifier(let identifier)?: profileId = resolved[Self.key(identifier)]
                case nil: profileId = nil
                }
                let visitor = event.properties.fields["visitor"]?.stringValue ?? ""
                guard let profileId else {
                    // A site's anonymous visitor: kept until they identify.
                    if !visitor.isEmpty {
                        anonymous.append(ActivityEvent(accountId: database.accountId, databaseId: database._id, profileId: "", at: event.meta.occurredAt.date,
                                                       kind: event.kind, source: event.source, properties: Self.document(event.properties)))
                    }
                    continue
                }
                // A site visitor who said who they are (an identifier) or came from a tracked link (the profile).
                let identifies = if case .identifier? = event.profile { true } else { event.source == "site" }
                if !visitor.isEmpty, identifies, !identified.contains(where: { $0.visitor == visitor && $0.database._id == database._id }) {
                    identified.append((database, visitor, profileId))
                }
                activity.append(ActivityEvent(accountId: database.accountId, databaseId: database._id, profileId: profileId,
                                              at: event.meta.occurredAt.date, kind: event.kind, source: event.source,
                                              properties: Self.document(event.properties)))
                eventIds.append(event.meta.eventID)
            }
        }
        try await writer.store.record(activity)
        if let listener, !activity.isEmpty { await listener(Array(zip(eventIds, activity)).map { (eventId: $0.0, activity: $0.1) }) }
        if !anonymous.isEmpty { _ = try await writer.store.anonymousActivity.insertMany(anonymous, ordered: false) }
        // What identified visitors did before they said who they are, moved to their profiles.
        for (database, visitor, profileId) in identified {
            let filter: BSONDocument = ["accountId": .string(database.accountId), "databaseId": .string(database._id), "properties.visitor": .string(visitor)]
            var earlier = try await writer.store.anonymousActivity.find(filter).collect()
            guard !earlier.isEmpty else { continue }
            for index in earlier.indices { earlier[index].profileId = profileId }
            try await writer.store.record(earlier)
            _ = try await writer.store.anonymousActivity.deleteMany(["_id": ["$in": .array(earlier.map { .string($0._id) })]])
        }
        // Opens (by people, not machines) and clicks of sent messages, on their send-log entries:
        // the first of each counts for the campaign's results and A/B tests.
        var firsts: [BulkWriteOperation<BSONDocument>] = []
        for event in activity where event.kind == "message.opened" || event.kind == "message.clicked" {
            guard case .string(let message)? = event.properties["message"], !message.isEmpty else { continue }
            if event.kind == "message.opened", event.properties["machine"] == .bool(true) { continue }
            let field = event.kind == "message.opened" ? "openedAt" : "clickedAt"
            firsts.append(.updateOne(filter: ["$and": [["_id": .string(message)], [field: .null]]], update: ["$currentDate": [field: true]]))
        }
        if !firsts.isEmpty {
            _ = try await writer.store.profiles.database.collection("sends", of: BSONDocument.self).bulkWrite(firsts, ordered: false)
        }
        // Unsubscribes, hard bounces and complaints change the subscriptions they name; hard
        // bounces and complaints also put the address on the account's stop list.
        try await SubscriptionChanges(store: writer.store).apply(activity, databases: known)
        let stopList = StopList(settings: databases.database)
        for event in activity {
            guard event.kind == "message.complained" || (event.kind == "message.bounced" && event.properties["bounce"] == "hard"),
                  case .string(let address)? = event.properties["address"], !address.isEmpty else { continue }
            let reason: String = if case .string(let r)? = event.properties["reason"] { r } else { event.kind }
            try await stopList.add(StopListEntry(accountId: event.accountId, kind: .address, value: address.lowercased(), reason: reason,
                                                 source: event.kind == "message.complained" ? .complaint : .bounce, by: event.source, at: event.at))
        }
    }

    static func key(_ identifier: Herald_Events_V1_ActivityEvent.Identifier) -> String {
        "\(identifier.field)\u{0}\(identifier.value)\u{0}\(identifier.number)"
    }

    static func document(_ properties: Google_Protobuf_Struct) -> BSONDocument {
        var document = BSONDocument()
        for (key, value) in properties.fields.sorted(by: { $0.key < $1.key }) { document.append(key, bson(value)) }
        return document
    }

    static func bson(_ value: Google_Protobuf_Value) -> BSONValue {
        switch value.kind {
        case .numberValue(let number)?: number.rounded() == number && abs(number) < 9e15 ? .int64(Int64(number)) : .double(number)
        case .stringValue(let text)?: .string(text)
        case .boolValue(let flag)?: .bool(flag)
        case .structValue(let object)?: .document(document(object))
        case .listValue(let list)?: .array(list.values.map(bson))
        case .nullValue?, nil: .null
        }
    }
}
