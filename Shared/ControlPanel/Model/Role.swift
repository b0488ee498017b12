import BSON
import Security

/// A named set of permissions. Each account has the built-in roles and any custom ones.
public struct Role: Codable, Sendable, Equatable {
    public var _id: String
    public var accountId: String
    public var name: String
    public var description: String
    /// Set for the four built-in roles, which cannot be changed or deleted.
    public var builtIn: String?
    public var permissions: [Permission]

    public init(accountId: String, name: String, description: String = "", permissions: [Permission], builtIn: BuiltInRole? = nil) {
        _id = ObjectId().hex
        self.accountId = accountId
        self.name = name
        self.description = description
        self.permissions = permissions.sorted()
        self.builtIn = builtIn?.rawValue
    }
}
