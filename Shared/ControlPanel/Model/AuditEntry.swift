import BSON
import Foundation

/// One line of an account's append-only audit log: who did what to which object, when, from
/// where, and the values before and after.
public struct AuditEntry: Codable, Sendable, Equatable {
    public struct Change: Codable, Sendable, Equatable {
        public var field: String
        public var before: String?
        public var after: String?

        public init(field: String, before: String?, after: String?) {
            self.field = field
            self.before = before
            self.after = after
        }
    }

    public var _id: String
    public var accountId: String
    public var at: Date
    public var actorId: String?
    /// The actor's login at the time (kept when the user is later deleted); `system` for Herald itself.
    public var actorLogin: String
    /// `panel`, `api` or `system`.
    public var via: String
    public var address: String
    /// `user.create`, `login.failure`, `audit.export`, …
    public var action: String
    public var objectKind: String
    public var objectId: String
    public var objectName: String
    public var changes: [Change]

    public init(_id: String, accountId: String, at: Date, actorId: String?, actorLogin: String, via: String, address: String, action: String,
                objectKind: String, objectId: String, objectName: String, changes: [Change])
    {
        self._id = _id
        self.accountId = accountId
        self.at = at
        self.actorId = actorId
        self.actorLogin = actorLogin
        self.via = via
        self.address = address
        self.action = action
        self.objectKind = objectKind
        self.objectId = objectId
        self.objectName = objectName
        self.changes = changes
    }
}
