import BSON
import CustomerData
import Foundation

/// A stored value as JSON for the API: numbers, text, booleans, lists and objects as they are;
/// date-times as ISO 8601 text.
struct JSONValue: Encodable {
    let value: BSONValue

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch value {
        case .string(let text): try container.encode(text)
        case .int32(let n): try container.encode(n)
        case .int64(let n): try container.encode(n)
        case .double(let n): try container.encode(n)
        case .bool(let b): try container.encode(b)
        case .datetime: try container.encode(value.dateValue.map { ISO8601DateFormatter().string(from: $0) } ?? "")
        case .array(let items): try container.encode(items.map(JSONValue.init))
        case .document(let document): try container.encode(JSONDocument(document: document))
        case .objectId(let id): try container.encode(id.hex)
        default: try container.encodeNil()
        }
    }
}

/// A document as a JSON object, keys in stored order.
struct JSONDocument: Encodable {
    let document: BSONDocument

    struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for (key, value) in document { try container.encode(JSONValue(value: value), forKey: Key(stringValue: key)) }
    }
}

struct ProfileView: Encodable {
    let id: String, databaseId: String, fields: JSONDocument, subscriptions: [Subscription], version: Int64, createdAt: Date, updatedAt: Date
    init(_ profile: Profile) {
        id = profile._id; databaseId = profile.databaseId; fields = JSONDocument(document: profile.fields); subscriptions = profile.subscriptions
        version = profile.version; createdAt = profile.createdAt; updatedAt = profile.updatedAt
    }
}

struct DatabaseView: Encodable {
    let id: String, name: String, description: String, fields: [FieldDefinition], createdAt: Date, updatedAt: Date
    var profiles: Int?
    init(_ database: ProfileDatabase, profiles: Int? = nil) {
        id = database._id; name = database.name; description = database.description; fields = database.fields
        createdAt = database.createdAt; updatedAt = database.updatedAt; self.profiles = profiles
    }
}

struct ActivityView: Encodable {
    let id: String, at: Date, kind: String, source: String, properties: JSONDocument
    init(_ event: ActivityEvent) {
        id = event._id; at = event.at; kind = event.kind; source = event.source; properties = JSONDocument(document: event.properties)
    }
}

/// One row's result in an upsert answer.
struct OutcomeView: Encodable {
    let index: Int, result: String, id: String?, reason: String?
    init(index: Int, _ outcome: ProfileWriter.Outcome) {
        self.index = index
        switch outcome {
        case .created(let id): result = "created"; self.id = id; reason = nil
        case .updated(let id): result = "updated"; self.id = id; reason = nil
        case .unchanged(let id): result = "unchanged"; self.id = id; reason = nil
        case .skipped(let why): result = "skipped"; id = nil; reason = why
        case .rejected(let why): result = "rejected"; id = nil; reason = why
        }
    }
}
