import BSON
import Foundation
import Mongo

/// The settings store's collections for accounts and access, with their indexes. Every read of
/// an account's object goes through ``scoped(_:in:)``, which puts the account into the filter:
/// an id from another account is simply not found.
public struct SecurityStore: Sendable {
    public let database: MongoDatabase
    public let accounts: MongoCollection<Account>
    public let users: MongoCollection<User>
    public let roles: MongoCollection<Role>
    public let groups: MongoCollection<UserGroup>
    public let sessions: MongoCollection<PanelSession>
    public let tokens: MongoCollection<APIToken>
    public let audit: MongoCollection<AuditEntry>

    public init(database: MongoDatabase) {
        self.database = database
        accounts = database.collection("accounts", of: Account.self)
        users = database.collection("users", of: User.self)
        roles = database.collection("roles", of: Role.self)
        groups = database.collection("groups", of: UserGroup.self)
        sessions = database.collection("sessions", of: PanelSession.self)
        tokens = database.collection("api_tokens", of: APIToken.self)
        audit = database.collection("audit", of: AuditEntry.self)
    }

    /// Creates the indexes (idempotent; `createIndexes` is a no-op for an existing identical index).
    public func prepare() async throws {
        try await users.createIndexes([
            IndexModel(keys: ["login": 1], name: "login_unique", unique: true),
            IndexModel(keys: ["accountId": 1, "name": 1], name: "account_name"),
        ])
        try await roles.createIndexes([IndexModel(keys: ["accountId": 1, "name": 1], name: "account_name_unique", unique: true)])
        try await groups.createIndexes([IndexModel(keys: ["accountId": 1, "name": 1], name: "account_name_unique", unique: true)])
        try await sessions.createIndexes([IndexModel(keys: ["userId": 1], name: "user"), IndexModel(keys: ["lastSeenAt": 1], name: "last_seen")])
        try await tokens.createIndexes([
            IndexModel(keys: ["digest": 1], name: "digest_unique", unique: true),
            IndexModel(keys: ["accountId": 1, "userId": 1], name: "account_user"),
        ])
        try await audit.createIndexes([
            IndexModel(keys: ["accountId": 1, "at": -1], name: "account_at"),
            IndexModel(keys: ["accountId": 1, "action": 1, "at": -1], name: "account_action_at"),
        ])
    }

    /// `filter` limited to `account`.
    public static func scoped(_ filter: BSONDocument, in account: String) -> BSONDocument {
        var scoped: BSONDocument = ["accountId": .string(account)]
        for (key, value) in filter where key != "accountId" { scoped.append(key, value) }
        return scoped
    }

    /// The filter for one object of `account` by its id as text; `nil` (so: not found) for a malformed id.
    public static func byId(_ id: String, in account: String) -> BSONDocument? {
        guard ObjectId(id) != nil else { return nil }
        return ["_id": .string(id.lowercased()), "accountId": .string(account)]
    }
}
