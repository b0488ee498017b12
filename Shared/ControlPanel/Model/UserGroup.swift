import BSON

/// A group of users that share roles. A user may be in several groups; permissions combine.
public struct UserGroup: Codable, Sendable, Equatable {
    public var _id: String
    public var accountId: String
    public var name: String
    public var description: String
    public var roleIds: [String]

    public init(accountId: String, name: String, description: String = "", roleIds: [String]) {
        _id = ObjectId().hex
        self.accountId = accountId
        self.name = name
        self.description = description
        self.roleIds = roleIds
    }
}
