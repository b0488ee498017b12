import Foundation

/// Tells machine opens from human ones: Apple Mail Privacy Protection fetches every image of a
/// message through Apple's proxies whether or not it is read, and security scanners open messages
/// (and follow links) before delivery. Such opens are recorded but flagged, so that reports count
/// only people. Image proxies that fetch when a person opens the message (Gmail, Yahoo) count as
/// human.
public enum OpenClassifier {
    public enum Verdict: String, Sendable, Equatable {
        case human
        /// Apple Mail Privacy Protection's prefetch.
        case applePrivacyProxy = "apple_privacy_proxy"
        /// A mail security scanner or a link checker.
        case scanner
    }

    /// User agents of known scanners and link checkers (lower case).
    static let scannerMarks = ["barracuda", "mimecast", "proofpoint", "ironport", "trendmicro", "symantec", "messagelabs", "forcepoint", "sophos",
                               "fortinet", "cloudmark", "zscaler", "paloalto", "microsoft office existence discovery", "safelinks", "bingpreview",
                               "go-http-client", "python-requests", "curl/", "wget/", "headlesschrome", "phantomjs", "slackbot", "facebookexternalhit"]

    /// Apple's proxy ranges used by Mail Privacy Protection (17.0.0.0/8 is Apple's own block).
    static let appleRanges: [(UInt32, UInt32)] = [(0x1100_0000, 0xFF00_0000)]

    public static func classify(userAgent: String, address: String, secondsSinceSent: Double? = nil) -> Verdict {
        let agent = userAgent.lowercased()
        if scannerMarks.contains(where: { agent.contains($0) }) { return .scanner }
        if agent.isEmpty { return .scanner }
        // Apple's proxy sends a bare "Mozilla/5.0" from Apple's addresses.
        if userAgent.trimmingCharacters(in: .whitespaces) == "Mozilla/5.0", let ip = ipv4(address), appleRanges.contains(where: { ip & $0.1 == $0.0 }) {
            return .applePrivacyProxy
        }
        // Opened within two seconds of sending: a gateway's scan, not a reader.
        if let seconds = secondsSinceSent, seconds >= 0, seconds < 2 { return .scanner }
        return .human
    }

    static func ipv4(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".")
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard let byte = UInt8(part) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }
}
