import BSON
import Foundation
import SMTP

/// How mta-sender treats one destination (settings store, `destination_rules`, managed in the
/// panel under Settings → Delivery rules): how many connections, how many messages on each, how
/// fast from each source IP, what to do when the receiver asks to slow down, and when to retry.
/// The most specific rule that matches a destination applies; `*` is the default.
public struct DestinationRule: Codable, Sendable, Equatable {
    public var _id: String
    public var name: String
    /// `*`; a mail domain (`gmail.com`, also matching its subdomains); or an MX host suffix
    /// (`google.com` matches `aspmx.l.google.com`, so every domain Google hosts).
    public var match: String
    /// Open connections to the destination at once, per sender node.
    public var maxConnections: Int
    /// Messages sent on one connection before it is closed and another opened.
    public var messagesPerConnection: Int
    /// Messages per minute and per hour from each source IP (no limit when nil).
    public var perMinute: Int?
    public var perHour: Int?
    /// After a 421 reply or a 4.7.x status (the receiver asks to slow down), nothing goes to the
    /// destination for this long; waiting messages are deferred without losing an attempt.
    public var backoffSeconds: Int
    /// The STARTTLS policy; the sender's default (`mta.tls`) when nil.
    public var tls: SMTPClient.TLSPolicy?
    public var retry: RetrySchedule
    /// A new source IP's warm-up with this provider: a daily allowance per source IP that grows
    /// each day (none when nil).
    public var warmUp: ProviderWarmUp?
    public var updatedAt: Date

    public init(
        id: String = UUID().uuidString.lowercased(), name: String, match: String, maxConnections: Int = 10, messagesPerConnection: Int = 100,
        perMinute: Int? = nil, perHour: Int? = nil, backoffSeconds: Int = 300, tls: SMTPClient.TLSPolicy? = nil,
        retry: RetrySchedule = RetrySchedule(), warmUp: ProviderWarmUp? = nil, updatedAt: Date = Date()
    ) {
        _id = id
        self.name = name
        self.match = match.lowercased()
        self.maxConnections = maxConnections
        self.messagesPerConnection = messagesPerConnection
        self.perMinute = perMinute
        self.perHour = perHour
        self.backoffSeconds = backoffSeconds
        self.tls = tls
        self.retry = retry
        self.warmUp = warmUp
        self.updatedAt = updatedAt
    }

    public static let collectionName = "destination_rules"

    /// The rule used when no stored rule matches.
    public static let standard = DestinationRule(id: "default", name: "Default", match: "*")

    /// How well this rule matches a destination: nil when it does not, otherwise longer is more specific.
    public func specificity(domain: String, hosts: [String]) -> Int? {
        if match == "*" { return 0 }
        let suffix = "." + match
        if domain == match || domain.hasSuffix(suffix) { return match.count + 1000 }
        if hosts.contains(where: { $0 == match || $0.hasSuffix(suffix) }) { return match.count }
        return nil
    }

    /// The rule for a destination among `rules`: the most specific match, or the default.
    public static func applying(to domain: String, hosts: [String], among rules: [DestinationRule]) -> DestinationRule {
        var best: (rule: DestinationRule, score: Int)?
        for rule in rules {
            guard let score = rule.specificity(domain: domain, hosts: hosts) else { continue }
            if best == nil || score > best!.score { best = (rule, score) }
        }
        return best?.rule ?? standard
    }

    /// What is wrong with the rule, field by field; empty when it can be saved.
    public var problems: [(field: String, message: String)] {
        var problems: [(String, String)] = []
        let m = match
        if m.isEmpty || (m != "*" && (m.contains("@") || m.contains(" ") || !m.contains("."))) {
            problems.append(("match", "give *, a mail domain (gmail.com) or an MX host suffix (google.com)"))
        }
        if !(1...1000).contains(maxConnections) { problems.append(("maxConnections", "between 1 and 1000")) }
        if !(1...100_000).contains(messagesPerConnection) { problems.append(("messagesPerConnection", "between 1 and 100000")) }
        if let perMinute, perMinute < 1 { problems.append(("perMinute", "at least 1, or empty for no limit")) }
        if let perHour, perHour < 1 { problems.append(("perHour", "at least 1, or empty for no limit")) }
        if !(0...86_400).contains(backoffSeconds) { problems.append(("backoffSeconds", "between 0 and 86400")) }
        problems += retry.problems.map { ("retry.\($0.field)", $0.message) }
        problems += (warmUp?.problems ?? []).map { ("warmUp.\($0.field)", $0.message) }
        return problems
    }
}

/// When a deferred message is tried again: the first delay, growing by `factor` each time up to
/// `maxDelaySeconds`, each spread by ±`jitter` so that a destination's deferrals do not all come
/// back at once; after `maxAgeSeconds` since the first attempt the message expires (reported as
/// expired, not bounced).
public struct RetrySchedule: Codable, Sendable, Equatable {
    public var firstDelaySeconds: Int
    public var factor: Double
    public var maxDelaySeconds: Int
    public var maxAgeSeconds: Int
    /// 0…0.5: the share by which each delay is randomly shortened or lengthened.
    public var jitter: Double

    public init(firstDelaySeconds: Int = 300, factor: Double = 2, maxDelaySeconds: Int = 4 * 3600, maxAgeSeconds: Int = 3 * 86_400, jitter: Double = 0.2) {
        self.firstDelaySeconds = firstDelaySeconds
        self.factor = factor
        self.maxDelaySeconds = maxDelaySeconds
        self.maxAgeSeconds = maxAgeSeconds
        self.jitter = jitter
    }

    /// The delay before attempt `attempt + 1`, after `attempt` failed attempts (1 or more).
    public func delay(afterAttempt attempt: Int, random: Double = Double.random(in: -1...1)) -> Double {
        let base = min(Double(firstDelaySeconds) * pow(factor, Double(max(attempt - 1, 0))), Double(maxDelaySeconds))
        return max(1, base * (1 + jitter * random))
    }

    var problems: [(field: String, message: String)] {
        var problems: [(String, String)] = []
        if firstDelaySeconds < 1 { problems.append(("firstDelaySeconds", "at least 1")) }
        if factor < 1 || factor > 10 { problems.append(("factor", "between 1 and 10")) }
        if maxDelaySeconds < firstDelaySeconds { problems.append(("maxDelaySeconds", "at least the first delay")) }
        if maxAgeSeconds < firstDelaySeconds { problems.append(("maxAgeSeconds", "at least the first delay")) }
        if jitter < 0 || jitter > 0.5 { problems.append(("jitter", "between 0 and 0.5")) }
        return problems
    }
}
