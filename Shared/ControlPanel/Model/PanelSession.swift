import BSON
import Foundation

/// A logged-in browser. The cookie holds a random secret; the store holds only its SHA-256, so
/// a copy of the database cannot be used to log in.
public struct PanelSession: Codable, Sendable {
    /// How far the login got: a session that still owes a password change or a second factor
    /// reaches only the page that asks for it.
    public enum Stage: String, Codable, Sendable {
        case active
        case mustChangePassword = "must_change_password"
        case needsSecondFactor = "needs_second_factor"
    }

    /// SHA-256 of the cookie's secret.
    public var _id: String
    public var userId: String
    public var accountId: String
    public var stage: Stage
    /// The CSRF token every state-changing form of this session carries.
    public var csrfToken: String
    public var createdAt: Date
    public var lastSeenAt: Date
    public var address: String
    public var userAgent: String
}
