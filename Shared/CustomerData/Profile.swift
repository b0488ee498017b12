import BSON
import Foundation

/// One customer in one profile database: typed field values, subscriptions, and a version that
/// every write checks, so concurrent writers never overwrite each other's changes.
public struct Profile: Codable, Sendable, Equatable {
    public var _id: String
    public var accountId: String
    public var databaseId: String
    /// Field key → stored value (``FieldValueParser``). Absent keys have no value.
    public var fields: BSONDocument
    public var subscriptions: [Subscription]
    /// Incremented by every write; a replace names the version it read.
    public var version: Int64
    public var createdAt: Date
    public var updatedAt: Date

    public init(accountId: String, databaseId: String, fields: BSONDocument = [:], subscriptions: [Subscription] = []) {
        _id = ObjectId().hex
        self.accountId = accountId
        self.databaseId = databaseId
        self.fields = fields
        self.subscriptions = subscriptions
        version = 1
        createdAt = Date()
        updatedAt = createdAt
    }

    public subscript(field key: String) -> BSONValue? {
        guard let value = fields[key], value != .null else { return nil }
        return value
    }

    /// Sets (or, for `.null`, removes) field values, keeping the others in their order; new
    /// fields go at the end.
    public mutating func merge(_ values: [(String, BSONValue)]) {
        var merged = BSONDocument()
        let incoming = Dictionary(values, uniquingKeysWith: { _, last in last })
        var seen = Set<String>()
        for (key, value) in fields {
            seen.insert(key)
            let next = incoming[key] ?? value
            if next != .null { merged.append(key, next) }
        }
        for (key, value) in values where value != .null && seen.insert(key).inserted { merged.append(key, value) }
        fields = merged
    }

    /// Adds a subscription, or updates the status of the same target.
    public mutating func subscribe(_ subscription: Subscription) {
        if let index = subscriptions.firstIndex(where: { $0.sameTarget(as: subscription) }) {
            subscriptions[index].status = subscription.status
            subscriptions[index].updatedAt = subscription.updatedAt
        } else {
            subscriptions.append(subscription)
        }
    }
}
