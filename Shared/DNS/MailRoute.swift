/// Where mail for a domain goes (RFC 5321 §5.1): its MX hosts by preference, each with its
/// addresses, or the domain itself when it has no MX (the implicit MX).
public struct MailRoute: Sendable, Equatable {
    public struct Host: Sendable, Equatable {
        public var name: String
        public var preference: Int
        public var addresses: [String]

        public init(name: String, preference: Int, addresses: [String]) {
            self.name = name
            self.preference = preference
            self.addresses = addresses
        }
    }

    public var domain: String
    /// Lowest preference first; hosts of equal preference in the order DNS gave them.
    public var hosts: [Host]
    /// True when the domain has no MX record and its own address records are used.
    public var isImplicit: Bool

    public init(domain: String, hosts: [Host], isImplicit: Bool) {
        self.domain = domain
        self.hosts = hosts
        self.isImplicit = isImplicit
    }

    /// The destination limits are kept for: the MX host names of the best preference, sorted and
    /// joined (`mx1.mail.test,mx2.mail.test`). Domains served by the same hosts (every domain
    /// hosted by one provider) share it, so a provider's limits hold across all its domains —
    /// "MX rollup", as KumoMTA calls its site name.
    public var site: String {
        guard let best = hosts.first?.preference else { return domain }
        return hosts.filter { $0.preference == best }.map(\.name).sorted().joined(separator: ",")
    }
}

/// Why a domain has no route.
public enum MailRouteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The domain does not exist (NXDOMAIN): a permanent failure.
    case noSuchDomain(String)
    /// The domain has neither MX nor address records, or publishes a null MX (RFC 7505): permanent.
    case acceptsNoMail(String)
    /// DNS did not answer in time or failed: try again later.
    case temporaryFailure(String)

    public var isPermanent: Bool {
        if case .temporaryFailure = self { return false }
        return true
    }

    public var description: String {
        switch self {
        case .noSuchDomain(let domain): "the domain \(domain) does not exist"
        case .acceptsNoMail(let domain): "the domain \(domain) accepts no mail (no MX or address records, or a null MX)"
        case .temporaryFailure(let reason): "DNS failed for now: \(reason)"
        }
    }
}
