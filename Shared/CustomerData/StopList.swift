import BSON
import Foundation
import Mongo

/// The account's stop list in the settings store: what stops a delivery, and adding to it
/// (idempotent: an address already listed keeps its first reason).
public struct StopList: Sendable {
    public let entries: MongoCollection<StopListEntry>

    public init(settings: MongoDatabase) {
        entries = settings.collection(StopListEntry.collectionName, of: StopListEntry.self)
    }

    public func prepare() async throws {
        try await entries.createIndexes([
            IndexModel(keys: ["accountId": 1, "createdAt": -1], name: "account_created"),
            IndexModel(keys: ["accountId": 1, "value": 1], name: "account_value"),
        ])
    }

    /// The entry that stops a message to `address` on `channel`, if one does: the address itself,
    /// or (e-mail) its domain.
    public func blocking(_ address: String, channel: Subscription.Channel, account: String) async throws -> StopListEntry? {
        var ids: [BSONValue] = []
        switch channel {
        case .email:
            let lower = address.lowercased()
            ids.append(.string("\(account):address:\(lower)"))
            if let at = lower.lastIndex(of: "@") { ids.append(.string("\(account):domain:\(lower[lower.index(after: at)...])")) }
        case .sms:
            ids.append(.string("\(account):phone:\(address)"))
        default:
            ids.append(.string("\(account):address:\(address.lowercased())"))
        }
        return try await entries.findOne(["_id": ["$in": .array(ids)]])
    }

    /// Adds an entry; false when the value was already listed.
    @discardableResult
    public func add(_ entry: StopListEntry) async throws -> Bool {
        do {
            try await entries.insertOne(entry)
            return true
        } catch let error as MongoError where error.code == .duplicateKey {
            return false
        }
    }
}
