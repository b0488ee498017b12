import AMQP
import Contracts
import CustomerData
import Foundation
import Hummingbird
import Security
import ServiceSupport
import SwiftProtobuf

/// The events API: activity from any channel or site, checked, then published to the bus with
/// confirms in one batch; job-server writes it to the profiles. `POST /api/v1/events`.
struct EventsController {
    let customers: CustomerDataService
    let amqp: AMQPConnection?

    func addRoutes(to router: Router<PanelRequestContext>) {
        router.post("/api/v1/events", use: accept)
    }

    struct Event {
        /// `{"email": "…"}`, `{"phone": "…"}`, any identifier field, or `{"id": "<profile id>"}`.
        let profile: [String: FieldInput]
        let kind: String
        let at: String?
        let properties: FieldInput?

        init?(json: Any) {
            guard let object = json as? [String: Any], let kind = object["kind"] as? String, let profile = object["profile"] as? [String: Any] else { return nil }
            self.kind = kind
            self.profile = profile.mapValues(FieldInput.init(json:))
            at = object["at"] as? String
            properties = object["properties"].map(FieldInput.init(json:))
        }
    }

    struct Body {
        let databaseId: String
        let source: String?
        let events: [Event]

        init?(json: [String: Any]) {
            guard let databaseId = json["databaseId"] as? String, let events = json["events"] as? [Any] else { return nil }
            var parsed: [Event] = []
            parsed.reserveCapacity(events.count)
            for event in events {
                guard let decoded = Event(json: event) else { return nil }
                parsed.append(decoded)
            }
            self.databaseId = databaseId
            source = json["source"] as? String
            self.events = parsed
        }
    }

    struct Answer: Encodable {
        struct Rejection: Encodable {
            let index: Int
            let reason: String
        }

        let accepted: Int
        let rejected: [Rejection]
    }

    @Sendable func accept(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.profiles, .edit)
        let buffer = try await request.body.collect(upTo: 32 << 20)
        // JSONSerialization, not Codable: a large batch decodes several times faster this way.
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any],
              let body = Body(json: object)
        else {
            throw APIErrorFor.badBody("send {\"databaseId\": \"…\", \"events\": [{\"profile\": {\"email\": \"…\"}, \"kind\": \"order.paid\", \"properties\": {…}}]}")
        }
        guard (1...10_000).contains(body.events.count) else { throw APIErrorFor.invalid("send 1 to 10,000 events per request", field: "events") }
        let database = try await customers.database(body.databaseId, for: identity)
        let source = (body.source ?? "api").trimmingCharacters(in: .whitespaces)
        var accepted: [Herald_Events_V1_ActivityEvent] = []
        var rejected: [Answer.Rejection] = []
        let now = Date()
        for (index, event) in body.events.enumerated() {
            do {
                accepted.append(try activity(for: event, database: database, source: source.isEmpty ? "api" : source, account: identity.account._id, now: now))
            } catch let problem as Problem {
                rejected.append(.init(index: index, reason: problem.reason))
            }
        }
        // A thousand events to a message: few messages per request, each durably queued.
        var messages: [AMQPMessage] = []
        for start in stride(from: 0, to: accepted.count, by: 1000) {
            var batch = Herald_Events_V1_ActivityBatch()
            batch.meta = .new(account: identity.account._id, producer: "control", at: now)
            batch.events = Array(accepted[start..<min(accepted.count, start + 1000)])
            messages.append(AMQPMessage(exchange: BusExchange.events, routingKey: BusRoutingKey.activity("batch"), body: try batch.serializedBytes(),
                                        messageId: batch.meta.eventID, type: "herald.events.v1.ActivityBatch", contentType: "application/x-protobuf",
                                        appId: "control", timestamp: now))
        }
        guard let amqp else { throw APIError(.serviceUnavailable, code: "unavailable", message: "the event bus is not reachable; send the events again") }
        if !messages.isEmpty {
            do {
                try await amqp.publish(contentsOf: messages)
            } catch {
                throw APIError(.serviceUnavailable, code: "unavailable", message: "the event bus did not confirm the events; send them again: \(error)")
            }
        }
        return try JSONBody.response(Answer(accepted: accepted.count, rejected: rejected), status: .accepted)
    }

    struct Problem: Error {
        let reason: String
    }

    func activity(for event: Event, database: ProfileDatabase, source: String, account: String, now: Date) throws -> Herald_Events_V1_ActivityEvent {
        guard ActivityEvent.isValidKind(event.kind) else {
            throw Problem(reason: "kind '\(event.kind)': use lower-case words joined by dots, e.g. order.paid")
        }
        var activity = Herald_Events_V1_ActivityEvent()
        activity.meta.eventID = UUID().uuidString
        activity.meta.accountID = account
        activity.meta.producer = "control"
        activity.databaseID = database._id
        activity.kind = event.kind
        activity.source = source
        if let at = event.at {
            guard let date = FieldValueParser.parseDateTimePublic(at) else { throw Problem(reason: "at '\(at)' is not an ISO 8601 date and time") }
            activity.meta.occurredAt = .init(date: date)
        } else {
            activity.meta.occurredAt = .init(date: now)
        }
        guard event.profile.count == 1, let (key, input) = event.profile.first else {
            throw Problem(reason: "profile: give exactly one identifier, e.g. {\"email\": \"anna@example.com\"} or {\"id\": \"…\"}")
        }
        if key == "id" {
            guard case .text(let id) = input, !id.isEmpty else { throw Problem(reason: "profile.id must be a profile id") }
            activity.profileID = id
        } else {
            guard let field = database.field(key), field.unique else {
                throw Problem(reason: "profile.\(key): not an identifier of this database (use \(database.identifiers.map(\.key).joined(separator: ", ")) or id)")
            }
            switch FieldValueParser.parse(input, as: field) {
            case .success(.string(let text)):
                var identifier = Herald_Events_V1_ActivityEvent.Identifier()
                identifier.field = key
                identifier.value = text
                activity.identifier = identifier
            case .success(.int64(let number)):
                var identifier = Herald_Events_V1_ActivityEvent.Identifier()
                identifier.field = key
                identifier.number = number
                activity.identifier = identifier
            case .success: throw Problem(reason: "profile.\(key): a value is required")
            case .failure(let failure): throw Problem(reason: "profile.\(failure.description)")
            }
        }
        if let properties = event.properties {
            guard case .object(let object) = properties else { throw Problem(reason: "properties must be an object") }
            activity.properties = Self.structValue(object)
        }
        return activity
    }

    static func structValue(_ object: [String: FieldInput]) -> Google_Protobuf_Struct {
        var result = Google_Protobuf_Struct()
        for (key, value) in object { result.fields[key] = protobufValue(value) }
        return result
    }

    static func protobufValue(_ input: FieldInput) -> Google_Protobuf_Value {
        var value = Google_Protobuf_Value()
        switch input {
        case .null: value.nullValue = .nullValue
        case .text(let text): value.stringValue = text
        case .number(let number): value.numberValue = number
        case .bool(let flag): value.boolValue = flag
        case .list(let items): value.listValue = Google_Protobuf_ListValue(values: items.map(protobufValue))
        case .object(let object): value.structValue = structValue(object)
        }
        return value
    }
}
