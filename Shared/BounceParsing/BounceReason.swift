/// Classifies a failure by its enhanced status code (RFC 3463) and the words of the diagnostic,
/// into the reason names of Sisimai, the field's reference analyser.
enum BounceReason {
    /// Phrases that name the reason more precisely than a generic status code; first match wins.
    static let phrases: [(reason: String, needles: [String])] = [
        ("vacation", ["auto-reply", "autoreply", "out of office", "on vacation", "away from the office"]),
        ("mailboxfull", ["mailbox full", "mailbox is full", "quota exceeded", "over quota", "overquota", "exceeded storage", "mailbox has exceeded", "insufficient disk space", "not enough disk space", "user is over", "mailfolder is full", "full mailbox"]),
        ("mesgtoobig", ["message too big", "message too large", "message size exceeds", "exceeds the maximum", "size limit"]),
        ("userunknown", ["user unknown", "unknown user", "no such user", "user not found", "recipient not found", "does not exist", "doesn't exist", "no mailbox", "mailbox unavailable", "invalid recipient", "unknown recipient", "recipient unknown", "address rejected", "no such recipient", "not a valid recipient", "mailbox not found", "account does not exist", "user doesn't have", "unrouteable address", "is not a known user", "addressee unknown", "bad destination mailbox", "no such mailbox", "recipient address rejected"]),
        ("hostunknown", ["host unknown", "unknown host", "domain not found", "no such domain", "host not found", "name or service not known", "unrouteable mail domain", "domain does not exist", "nxdomain"]),
        ("suspend", ["suspended", "disabled", "deactivated", "inactive", "account has been locked", "blocked account", "not active"]),
        ("hasmoved", ["has moved", "no longer"]),
        ("spamdetected", ["spam", "junk mail", "bulk mail", "unsolicited"]),
        ("virusdetected", ["virus", "malware"]),
        ("securityerror", ["authentication required", "tls required", "encryption required", "must issue a starttls", "relay access denied for", "not authorized to send"]),
        ("norelaying", ["relaying denied", "relay denied", "relay not permitted", "relaying not allowed", "not permitted to relay", "relay access denied"]),
        ("blocked", ["blocked", "blacklist", "block list", "blocklist", "denied by policy", "client host rejected", "access denied", "rbl", "spamhaus", "poor reputation", "ip address"]),
        ("toomanyconn", ["too many connections", "too many recipients", "connection limit", "rate limit", "too many messages"]),
        ("expired", ["retry timeout exceeded", "delivery time expired", "message expired", "could not be delivered within", "timed out", "giving up", "too long", "retry time not reached"]),
        ("networkerror", ["connection refused", "network is unreachable", "no route to host", "connection timed out", "lost connection", "dns lookup"]),
        ("systemfull", ["system full", "insufficient system storage"]),
        ("syntaxerror", ["syntax error", "command unrecognized"]),
        ("contenterror", ["content rejected", "message content"]),
        ("policyviolation", ["policy", "dmarc", "spf", "dkim"]),
        ("rejected", ["sender rejected", "sender address rejected", "sender domain", "envelope sender", "permission to post", "not allowed to post"]),
        ("filtered", ["filtered", "rejected by the recipient", "refused"]),
        ("notaccept", ["does not accept mail", "null mx", "not accepting"]),
    ]

    /// The phrases as bytes, searched byte-wise: a bounce is classified in microseconds.
    static let phraseBytes: [(reason: String, needles: [[UInt8]])] = phrases.map { ($0.reason, $0.needles.map { Array($0.utf8) }) }

    static func classify(status: String, diagnostic: String, action: String) -> String {
        if action.hasPrefix("delayed") && status.hasPrefix("4") { return "expired" }
        let text = diagnostic.lowercased()
        let bytes = Array(text.utf8)
        func has(_ needle: [UInt8]) -> Bool { BounceAnalyzer.find(needle, in: bytes) != nil }
        // Precise status codes first: they are what the remote server meant.
        switch status {
        case "5.1.1", "5.1.0", "4.1.1", "5.1.6": if !has(Array("quota".utf8)) { return "userunknown" }
        case "5.1.2", "4.1.2": return "hostunknown"
        case "5.2.2", "4.2.2": return "mailboxfull"
        case "5.2.3", "5.3.4": return "mesgtoobig"
        case "5.4.7", "4.4.7": return "expired"
        case "5.7.1" where has(Array("spam".utf8)): return "spamdetected"
        default: break
        }
        for (reason, needles) in phraseBytes where needles.contains(where: has) {
            return reason
        }
        switch status.prefix(3) {
        case "5.1", "4.1": return "userunknown"
        case "5.2", "4.2": return "mailboxfull"
        case "5.4", "4.4": return "networkerror"
        case "5.7", "4.7": return "blocked"
        case "5.3", "4.3": return "systemerror"
        case "5.5": return "syntaxerror"
        default: return status.isEmpty ? "undefined" : "onhold"
        }
    }

    /// Permanent or temporary. Only a failure that says the address itself is gone is hard (the
    /// address goes on the stop list at once); blocks, filters, full mailboxes and the like are soft
    /// — the recipient may well get the next message — and become hard after the configured count.
    /// A reason that says nothing about the address is hard only with a permanent (5.x.x) code.
    static func kind(reason: String, status: String, replyCode: String) -> Bounce.Kind {
        switch reason {
        case "feedback": return .complaint
        case "userunknown", "hostunknown", "hasmoved": return .hard
        case "notaccept", "onhold", "undefined":
            return (status.first ?? replyCode.first) == "5" ? .hard : .soft
        default: return .soft
        }
    }
}
