import BSON

/// Who is acting, for the audit log: a user through the panel or the API, or Herald itself.
public struct Actor: Sendable {
    public let accountId: String
    public let userId: String?
    public let login: String
    /// `panel`, `api` or `system`.
    public let via: String
    public let address: String

    public init(accountId: String, userId: String?, login: String, via: String, address: String) {
        self.accountId = accountId
        self.userId = userId
        self.login = login
        self.via = via
        self.address = address
    }

    public static func system(_ account: String) -> Actor {
        Actor(accountId: account, userId: nil, login: "system", via: "system", address: "")
    }
}
