import BSON
import Foundation
import Security

/// A bearer token for the REST API. It acts as its user, limited to its scopes: what it may do
/// is what both the scopes and the user's roles allow.
public struct APIToken: Codable, Sendable, Equatable {
    public var _id: String
    public var accountId: String
    public var userId: String
    public var name: String
    /// SHA-256 of the secret, which is shown once at creation and never stored.
    public var digest: String
    /// The secret's first characters, so a user can tell tokens apart.
    public var prefix: String
    public var scopes: [Permission]
    public var createdAt: Date
    public var expiresAt: Date?
    public var lastUsedAt: Date?
    public var revokedAt: Date?
}
