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

    /// Of many e-mail recipients at once (one query), those stopped by an entry for the address or
    /// its domain, with that entry; keyed by the address as given.
    /// - Parameter recipients: (address, account) pairs.
    public func blockingEmail(_ recipients: [(address: String, account: String)]) async throws -> [String: StopListEntry] {
        guard !recipients.isEmpty else { return [:] }
        var ids = Set<String>()
        for (address, account) in recipients {
            let lower = address.lowercased()
            ids.insert("\(account):address:\(lower)")
            if let at = lower.lastIndex(of: "@") { ids.insert("\(account):domain:\(lower[lower.index(after: at)...])") }
        }
        var found: [String: StopListEntry] = [:]
        for try await entry in entries.find(["_id": ["$in": .array(ids.map { .string($0) })]]) { found[entry._id] = entry }
        guard !found.isEmpty else { return [:] }
        var blocked: [String: StopListEntry] = [:]
        for (address, account) in recipients {
            let lower = address.lowercased()
            let domain = lower.lastIndex(of: "@").map { String(lower[lower.index(after: $0)...]) } ?? ""
            if let entry = found["\(account):address:\(lower)"] ?? found["\(account):domain:\(domain)"] { blocked[address] = entry }
        }
        return blocked
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
