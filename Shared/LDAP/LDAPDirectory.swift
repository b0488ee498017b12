import NIOPosix

/// Logs users in against an account's directory: binds as the user, reads their name and mail,
/// and lists the groups that hold them, for mapping to Herald groups.
public struct LDAPDirectory: Sendable {
    public let settings: LDAPSettings

    /// Who the directory says the user is.
    public struct Account: Sendable, Equatable {
        public let dn: String
        public let displayName: String?
        public let email: String?
        /// The DNs of the groups that list the user.
        public let groupDNs: [String]
    }

    public init(settings: LDAPSettings) {
        self.settings = settings
    }

    /// Binds as `username` (put into ``LDAPSettings/userDNTemplate``) with `password`.
    ///
    /// - Throws: ``LDAPError``; ``LDAPError/isInvalidCredentials`` for a wrong login or password.
    public func authenticate(username: String, password: String) async throws -> Account {
        let settings = settings
        return try await NIOThreadPool.singleton.runIfActive {
            let dn = settings.userDNTemplate.replacingOccurrences(of: "{login}", with: Self.escapeDNValue(username))
            let connection = try LDAPConnection(settings: settings)
            try connection.bind(dn: dn, password: password)
            let me = try? connection.search(base: dn, subtree: false, filter: "(objectClass=*)", attributes: ["cn", "displayName", "mail"]).first
            var groups: [String] = []
            if !settings.groupBaseDN.isEmpty {
                let filter = settings.groupFilter.replacingOccurrences(of: "{dn}", with: Self.escapeFilterValue(dn))
                groups = try connection.search(base: settings.groupBaseDN, filter: filter, attributes: ["cn"]).map(\.dn)
            }
            return Account(dn: dn, displayName: me?.attributes["displayName"]?.first ?? me?.attributes["cn"]?.first,
                           email: me?.attributes["mail"]?.first, groupDNs: groups)
        }
    }

    /// Connects, binds with the service account (or anonymously) and, when a group base is set,
    /// counts the groups under it: what the panel's "test connection" button reports.
    public func testConnection() async throws -> String {
        let settings = settings
        return try await NIOThreadPool.singleton.runIfActive {
            let connection = try LDAPConnection(settings: settings)
            if settings.serviceBindDN.isEmpty {
                try connection.bindAnonymously()
            } else {
                try connection.bind(dn: settings.serviceBindDN, password: settings.serviceBindPassword)
            }
            let who = settings.serviceBindDN.isEmpty ? "anonymously" : "as \(settings.serviceBindDN)"
            guard !settings.groupBaseDN.isEmpty else { return "connected to \(settings.url) and bound \(who)" }
            let groups = try connection.search(base: settings.groupBaseDN, filter: "(objectClass=*)", attributes: ["cn"])
            return "connected to \(settings.url), bound \(who), found \(groups.count) entries under \(settings.groupBaseDN)"
        }
    }

    /// RFC 4514 escaping for a value inside a DN.
    public static func escapeDNValue(_ value: String) -> String {
        var out = ""
        for (index, character) in value.enumerated() {
            switch character {
            case ",", "+", "\"", "\\", "<", ">", ";", "=":
                out += "\\" + String(character)
            case "#" where index == 0, " " where index == 0 || index == value.count - 1:
                out += "\\" + String(character)
            case "\0":
                out += "\\00"
            default:
                out.append(character)
            }
        }
        return out
    }

    /// RFC 4515 escaping for a value inside a search filter.
    public static func escapeFilterValue(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "*", "(", ")", "\\", "\0":
                out += String(format: "\\%02x", scalar.value)
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
