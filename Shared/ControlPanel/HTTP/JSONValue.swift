import BSON
import CustomerData
import Foundation

struct ProfileView: Encodable {
    let id: String, databaseId: String, fields: StoredValueJSON, subscriptions: [Subscription], version: Int64, createdAt: Date, updatedAt: Date
    init(_ profile: Profile) {
        id = profile._id; databaseId = profile.databaseId; fields = StoredValueJSON(value: .document(profile.fields)); subscriptions = profile.subscriptions
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
    let id: String, at: Date, kind: String, source: String, properties: StoredValueJSON
    init(_ event: ActivityEvent) {
        id = event._id; at = event.at; kind = event.kind; source = event.source; properties = StoredValueJSON(value: .document(event.properties))
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
