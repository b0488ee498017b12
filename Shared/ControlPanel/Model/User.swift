import BSON
import Foundation

/// A person who logs in to the panel. Logins are unique across the installation, so the login
/// alone says which account a user belongs to.
public struct User: Codable, Sendable, Equatable {
    public enum Source: String, Codable, Sendable { case local, ldap }

    public var _id: String
    public var accountId: String
    /// Lower-cased; an e-mail address or a short name.
    public var login: String
    public var name: String
    public var email: String
    public var source: Source
    public var ldapDN: String?
    public var passwordHash: String?
    public var passwordChangedAt: Date?
    /// Earlier hashes, newest first, for the policy's "not one of the last N".
    public var passwordHistory: [String]
    /// Set for a one-time password: the next login must choose a new one.
    public var mustChangePassword: Bool
    public var groupIds: [String]
    public var roleIds: [String]
    /// Interface language (`en`, `ru`); unset follows the browser.
    public var language: String?
    public var active: Bool
    public var failedLogins: Int
    public var lockedUntil: Date?
    /// Base32 TOTP secret; `totpEnabled` only once a code from it was confirmed.
    public var totpSecret: String?
    public var totpEnabled: Bool
    /// The last TOTP step accepted, so a code is never accepted twice.
    public var totpLastStep: Int64?
    /// May create and list accounts (the installation's operator).
    public var platformAdmin: Bool
    public var createdAt: Date
    public var lastLoginAt: Date?

    public init(accountId: String, login: String, name: String, email: String = "", source: Source = .local) {
        _id = ObjectId().hex
        self.accountId = accountId
        self.login = login.lowercased()
        self.name = name
        self.email = email
        self.source = source
        passwordHistory = []
        mustChangePassword = false
        groupIds = []
        roleIds = []
        active = true
        failedLogins = 0
        totpEnabled = false
        platformAdmin = false
        createdAt = Date()
    }
}
