import BSON
import Foundation

/// A link between two profiles of one database (family, colleague, referrer, or a custom kind),
/// shown on both cards.
public struct ProfileRelation: Codable, Sendable, Equatable {
    public var _id: String
    public var accountId: String
    public var databaseId: String
    public var fromId: String
    public var toId: String
    /// `family`, `colleague`, `referrer` or a custom word.
    public var kind: String
    public var createdAt: Date

    public init(accountId: String, databaseId: String, fromId: String, toId: String, kind: String) {
        _id = ObjectId().hex
        self.accountId = accountId
        self.databaseId = databaseId
        self.fromId = fromId
        self.toId = toId
        self.kind = kind
        createdAt = Date()
    }

    public static let standardKinds = ["family", "colleague", "referrer"]

    /// A valid kind: a word of lower-case letters, digits and `_`, starting with a letter.
    public static func isValidKind(_ kind: String) -> Bool { ActivityEvent.isValidKind(kind) && !kind.contains(".") }
}
