import BSON
import Foundation
import LDAP
import Security

/// A tenant. Every object (profile database, segment, template, campaign, user, role, …) carries
/// its account's id, and every lookup filters by it.
public struct Account: Codable, Sendable, Equatable {
    public var _id: String
    public var name: String
    public var createdAt: Date
    public var passwordPolicy: PasswordPolicy
    /// Minutes of inactivity after which a panel session ends.
    public var sessionIdleMinutes: Int
    /// Days audit entries are kept.
    public var auditRetentionDays: Int
    public var ldap: LDAPConfiguration?

    public init(name: String) {
        _id = ObjectId().hex
        self.name = name
        createdAt = Date()
        passwordPolicy = PasswordPolicy()
        sessionIdleMinutes = 60
        auditRetentionDays = 365
    }
}

/// An account's directory login: where it is, which logins go there, and how its groups map.
public struct LDAPConfiguration: Codable, Sendable, Equatable {
    public var enabled: Bool
    public var settings: LDAPSettings
    /// Logins `name@loginDomain` are checked against this directory.
    public var loginDomain: String
    /// A directory group's DN → the Herald group its members join.
    public var groupMappings: [GroupMapping]

    public struct GroupMapping: Codable, Sendable, Equatable {
        public var ldapGroupDN: String
        public var groupId: String

        public init(ldapGroupDN: String, groupId: String) {
            self.ldapGroupDN = ldapGroupDN
            self.groupId = groupId
        }
    }

    public init(enabled: Bool, settings: LDAPSettings, loginDomain: String, groupMappings: [GroupMapping]) {
        self.enabled = enabled
        self.settings = settings
        self.loginDomain = loginDomain
        self.groupMappings = groupMappings
    }
}
