import BSON
import Foundation
import Logging
import Mongo

/// Writes and searches the append-only audit log. Nothing edits or deletes an entry except the
/// retention sweep, which removes entries older than the account's policy.
public struct AuditLog: Sendable {
    let store: SecurityStore
    let logger: Logger

    public init(store: SecurityStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// What the audit page and `GET /api/v1/audit` filter by.
    public struct Query: Sendable {
        public var action: String?
        public var actor: String?
        public var objectKind: String?
        /// Matched case-insensitively in the object's name or id and the actor's login.
        public var text: String?
        public var from: Date?
        public var to: Date?
        public var limit: Int
        public var skip: Int

        public init(action: String? = nil, actor: String? = nil, objectKind: String? = nil, text: String? = nil, from: Date? = nil,
                    to: Date? = nil, limit: Int = 100, skip: Int = 0)
        {
            self.action = action
            self.actor = actor
            self.objectKind = objectKind
            self.text = text
            self.from = from
            self.to = to
            self.limit = limit
            self.skip = skip
        }
    }

    /// Records one event. A failure to write is logged and rethrown: a change that cannot be
    /// audited is reported as failed to the caller.
    public func record(_ actor: Actor, _ action: String, kind: String, id: String = "", name: String = "",
                       changes: [AuditEntry.Change] = []) async throws
    {
        let entry = AuditEntry(_id: ObjectId().hex, accountId: actor.accountId, at: Date(), actorId: actor.userId, actorLogin: actor.login,
                               via: actor.via, address: actor.address, action: action, objectKind: kind, objectId: id,
                               objectName: name, changes: changes)
        do {
            try await store.audit.insertOne(entry)
        } catch {
            logger.error("audit entry not written", metadata: ["action": "\(action)", "error": "\(error)"])
            throw error
        }
    }

    public func search(_ query: Query, in account: String) -> MongoCursor<AuditEntry> {
        var filter: BSONDocument = ["accountId": .string(account)]
        if let action = query.action, !action.isEmpty { filter.append("action", .string(action)) }
        if let actor = query.actor, !actor.isEmpty { filter.append("actorLogin", .string(actor.lowercased())) }
        if let kind = query.objectKind, !kind.isEmpty { filter.append("objectKind", .string(kind)) }
        if query.from != nil || query.to != nil {
            var range = BSONDocument()
            if let from = query.from { range.append("$gte", .date(from)) }
            if let to = query.to { range.append("$lt", .date(to)) }
            filter.append("at", .document(range))
        }
        if let text = query.text, !text.isEmpty {
            let pattern = NSRegularExpression.escapedPattern(for: text)
            let regex: BSONValue = ["$regex": .string(pattern), "$options": "i"]
            filter.append("$or", .array([
                .document(["objectName": regex]), .document(["objectId": regex]), .document(["actorLogin": regex]),
            ]))
        }
        return store.audit.find(filter, options: FindOptions(sort: ["at": -1, "_id": -1], skip: query.skip, limit: query.limit))
    }

    /// Deletes each account's entries older than its retention policy; returns how many went.
    @discardableResult
    public func sweep(now: Date = Date()) async throws -> Int {
        var removed = 0
        for try await account in store.accounts.find() {
            let cutoff = now.addingTimeInterval(-Double(account.auditRetentionDays) * 86400)
            removed += try await store.audit.deleteMany(["accountId": .string(account._id), "at": ["$lt": .date(cutoff)]])
        }
        return removed
    }
}
