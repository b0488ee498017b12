/// How one account reaches its directory. Edited on the panel's LDAP page.
public struct LDAPSettings: Sendable, Codable, Equatable {
    /// `ldap://host:389` or `ldaps://host:636`.
    public var url: String
    /// Upgrade an `ldap://` connection with StartTLS before binding.
    public var startTLS: Bool
    /// The user's DN with `{login}` where the login's local part goes:
    /// `uid={login},ou=people,dc=example,dc=com`.
    public var userDNTemplate: String
    /// Where groups are searched; empty skips group mapping.
    public var groupBaseDN: String
    /// Which groups hold the user, with `{dn}` for the user's DN.
    public var groupFilter: String
    /// Optional service account for "test connection" (anonymous when empty).
    public var serviceBindDN: String
    public var serviceBindPassword: String
    /// Seconds to wait for the server.
    public var timeoutSeconds: Int
    /// A PEM file of the CA that signed the server's certificate, for StartTLS and `ldaps://`
    /// (empty: the system's trusted CAs). The server's certificate is always verified.
    public var caCertificateFile: String

    public init(url: String, startTLS: Bool = false, userDNTemplate: String, groupBaseDN: String = "",
                groupFilter: String = "(&(objectClass=groupOfNames)(member={dn}))", serviceBindDN: String = "",
                serviceBindPassword: String = "", timeoutSeconds: Int = 5, caCertificateFile: String = "")
    {
        self.caCertificateFile = caCertificateFile
        self.url = url
        self.startTLS = startTLS
        self.userDNTemplate = userDNTemplate
        self.groupBaseDN = groupBaseDN
        self.groupFilter = groupFilter
        self.serviceBindDN = serviceBindDN
        self.serviceBindPassword = serviceBindPassword
        self.timeoutSeconds = timeoutSeconds
    }

    private enum CodingKeys: String, CodingKey {
        case url, startTLS, userDNTemplate, groupBaseDN, groupFilter, serviceBindDN, serviceBindPassword, timeoutSeconds, caCertificateFile
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        url = try c.decode(String.self, forKey: .url)
        startTLS = try c.decode(Bool.self, forKey: .startTLS)
        userDNTemplate = try c.decode(String.self, forKey: .userDNTemplate)
        groupBaseDN = try c.decode(String.self, forKey: .groupBaseDN)
        groupFilter = try c.decode(String.self, forKey: .groupFilter)
        serviceBindDN = try c.decode(String.self, forKey: .serviceBindDN)
        serviceBindPassword = try c.decode(String.self, forKey: .serviceBindPassword)
        timeoutSeconds = try c.decode(Int.self, forKey: .timeoutSeconds)
        caCertificateFile = try c.decodeIfPresent(String.self, forKey: .caCertificateFile) ?? ""
    }

    /// Problems with the settings, as (field, message).
    public func validationErrors() -> [(field: String, message: String)] {
        var errors: [(String, String)] = []
        if !(url.hasPrefix("ldap://") || url.hasPrefix("ldaps://")) { errors.append(("url", "use ldap://host:port or ldaps://host:port")) }
        if startTLS, url.hasPrefix("ldaps://") { errors.append(("startTLS", "ldaps:// is already encrypted; turn StartTLS off or use ldap://")) }
        if !userDNTemplate.contains("{login}") { errors.append(("userDNTemplate", "must contain {login}, e.g. uid={login},ou=people,dc=example,dc=com")) }
        if !groupBaseDN.isEmpty, !groupFilter.contains("{dn}") { errors.append(("groupFilter", "must contain {dn}, e.g. (member={dn})")) }
        if !(1...60).contains(timeoutSeconds) { errors.append(("timeoutSeconds", "use 1 to 60 seconds")) }
        if !caCertificateFile.isEmpty, !caCertificateFile.hasPrefix("/") {
            errors.append(("caCertificateFile", "give the absolute path of a PEM file on the control host"))
        }
        return errors
    }
}
