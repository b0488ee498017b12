import Foundation

/// Finds the failed recipients of a bounce (RFC 3464 delivery status notifications and the
/// common non-standard formats) or the complained-about recipient of a feedback report (RFC 5965),
/// with the status code, the reply code and a classified reason.
public enum BounceAnalyzer {
    /// Analyses one message as received (headers and body).
    public static func analyze(_ bytes: [UInt8]) -> [Bounce] {
        let message = MIMEPart(parsing: bytes[...])
        let parts = message.allParts
        if let report = parts.first(where: { $0.contentType == "message/feedback-report" }) {
            return feedback(report, in: message)
        }
        if let dsn = parts.first(where: { $0.contentType == "message/delivery-status" || $0.contentType == "message/global-delivery-status" }) {
            let found = deliveryStatus(dsn, in: message)
            if !found.isEmpty { return found }
        }
        return plainText(message)
    }

    public static func analyze(_ text: String) -> [Bounce] { analyze(Array(text.utf8)) }

    // MARK: Feedback reports

    static func feedback(_ report: MIMEPart, in message: MIMEPart) -> [Bounce] {
        let fields = fieldBlocks(report.text).flatMap { $0 }
        func field(_ name: String) -> String? { fields.first { $0.name.lowercased() == name }?.value }
        var recipient = field("original-rcpt-to") ?? field("removal-recipient")
        if recipient == nil, let original = originalMessage(message) {
            recipient = original.header("To")
        }
        return [Bounce(recipient: address(in: recipient ?? "") ?? "", status: "", replyCode: "", reason: "feedback",
                       kind: .complaint, diagnostic: "", feedbackType: field("feedback-type")?.lowercased())]
    }

    // MARK: Delivery status notifications

    static func deliveryStatus(_ dsn: MIMEPart, in message: MIMEPart) -> [Bounce] {
        var bounces: [Bounce] = []
        for block in fieldBlocks(dsn.text) {
            func field(_ name: String) -> String? { block.first { $0.name.lowercased() == name }?.value }
            guard let recipientField = field("final-recipient") ?? field("original-recipient"),
                  let recipient = address(in: recipientField) else { continue }
            let action = field("action")?.lowercased() ?? "failed"
            if action.hasPrefix("delivered") || action.hasPrefix("relayed") || action.hasPrefix("expanded") { continue }
            var diagnostic = field("diagnostic-code") ?? ""
            if let semicolon = diagnostic.firstIndex(of: ";"), diagnostic[..<semicolon].count < 12 {
                diagnostic = String(diagnostic[diagnostic.index(after: semicolon)...]).trimmingCharacters(in: .whitespaces)
            }
            var status = field("status").flatMap(statusCode(in:)) ?? ""
            if let specific = statusCode(in: diagnostic), status.isEmpty || status.hasSuffix(".0.0") && !specific.hasSuffix(".0.0") {
                status = specific
            }
            let reply = replyCode(in: diagnostic) ?? ""
            let reason = BounceReason.classify(status: status, diagnostic: diagnostic + " " + bodyText(message), action: action)
            bounces.append(Bounce(recipient: recipient, status: status, replyCode: reply, reason: reason,
                                  kind: BounceReason.kind(reason: reason, status: status, replyCode: reply), diagnostic: diagnostic))
        }
        return bounces
    }

    // MARK: Non-standard bounces

    static func plainText(_ message: MIMEPart) -> [Bounce] {
        let text = bodyText(message)
        var excluded = Set<String>()
        for name in ["From", "To", "Return-Path", "Sender", "Reply-To"] {
            if let a = message.header(name).flatMap(address(in:)) { excluded.insert(a) }
        }
        if let original = originalMessage(message), let from = original.header("From").flatMap(address(in:)) { excluded.insert(from) }
        // Message-IDs look like addresses; none of them is a recipient.
        let raw = message.allParts.map(\.text).joined(separator: "\n")
        let ns = raw as NSString
        for m in messageIDPattern.matches(in: raw, range: NSRange(location: 0, length: ns.length)) {
            excluded.insert(ns.substring(with: m.range(at: 1)).lowercased())
        }
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        var bounces: [Bounce] = []
        var seen = Set<String>()
        for (i, line) in lines.enumerated() {
            for candidate in addresses(in: line) where !excluded.contains(candidate) && !seen.contains(candidate) && !isSystemAddress(candidate) {
                let context = lines[i..<min(lines.count, i + 6)].joined(separator: " ")
                seen.insert(candidate)
                let status = statusCode(in: context) ?? ""
                let reply = replyCode(in: context) ?? ""
                let reason = BounceReason.classify(status: status, diagnostic: context + " " + text, action: "failed")
                bounces.append(Bounce(recipient: candidate, status: status, replyCode: reply, reason: reason,
                                      kind: BounceReason.kind(reason: reason, status: status, replyCode: reply),
                                      diagnostic: context.trimmingCharacters(in: .whitespaces)))
            }
        }
        if bounces.isEmpty, let to = originalMessage(message)?.header("To").flatMap(address(in:)) {
            let status = statusCode(in: text) ?? ""
            let reply = replyCode(in: text) ?? ""
            let reason = BounceReason.classify(status: status, diagnostic: text, action: "failed")
            bounces.append(Bounce(recipient: to, status: status, replyCode: reply, reason: reason,
                                  kind: BounceReason.kind(reason: reason, status: status, replyCode: reply), diagnostic: ""))
        }
        return bounces
    }

    static func isSystemAddress(_ a: String) -> Bool {
        let local = a.split(separator: "@").first.map(String.init) ?? a
        return ["mailer-daemon", "postmaster", "root", "noreply", "no-reply"].contains(local)
    }

    // MARK: Helpers

    /// The human-readable text of the bounce: its text parts, without the returned original.
    static func bodyText(_ message: MIMEPart) -> String {
        var texts: [String] = []
        func walk(_ p: MIMEPart) {
            let type = p.contentType
            if type.hasPrefix("message/") || type == "text/rfc822-headers" { return }
            if p.parts.isEmpty {
                if type.hasPrefix("text/") { texts.append(p.text) }
            } else {
                p.parts.forEach(walk)
            }
        }
        walk(message)
        var text = texts.joined(separator: "\n")
        // A returned original pasted inline starts with these; what follows is not the bounce.
        for marker in ["------ This is a copy of the message", "--- Below this line is a copy of the message",
                       "------- Returned Message --------", "----- Original message -----", "Original message follows",
                       "Message headers follow", "--- The header of the original message", "------ Original message headers",
                       "----- The following is a copy of", "--- Original message ---", "Original Message Headers"]
        {
            if let r = text.range(of: marker) { text = String(text[..<r.lowerBound]) }
        }
        return text
    }

    static func originalMessage(_ message: MIMEPart) -> MIMEPart? {
        message.allParts.first { ["message/rfc822", "text/rfc822-headers", "message/rfc822-headers"].contains($0.contentType) }?.parts.first
    }

    /// Groups of `Name: value` lines separated by blank lines (the DSN and ARF field syntax).
    static func fieldBlocks(_ text: String) -> [[(name: String, value: String)]] {
        var blocks: [[(name: String, value: String)]] = []
        var current: [(name: String, value: String)] = []
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = String(raw)
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                if !current.isEmpty { blocks.append(current) }
                current = []
            } else if line.first == " " || line.first == "\t", !current.isEmpty {
                current[current.count - 1].value += " " + line.trimmingCharacters(in: .whitespaces)
            } else if let colon = line.firstIndex(of: ":") {
                current.append((String(line[..<colon]).trimmingCharacters(in: .whitespaces), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            }
        }
        if !current.isEmpty { blocks.append(current) }
        return blocks
    }

    static let addressPattern = try! NSRegularExpression(pattern: "[A-Za-z0-9._%+=/'!#$&*?^`{|}~-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}")
    static let messageIDPattern = try! NSRegularExpression(pattern: "(?i)message-id:\\s*<([^>]+)>")
    static let statusPattern = try! NSRegularExpression(pattern: "\\b([245])\\.(\\d{1,3})\\.(\\d{1,3})\\b")
    static let replyPattern = try! NSRegularExpression(pattern: "(?:^|[^0-9.])([245][0-9][0-9])(?:[ -]|$)")

    static func addresses(in s: String) -> [String] {
        let ns = s as NSString
        return addressPattern.matches(in: s, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range).lowercased() }
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: ".'`")) }
    }

    static func address(in s: String) -> String? { addresses(in: s).first }

    static func statusCode(in s: String) -> String? {
        let ns = s as NSString
        guard let m = statusPattern.firstMatch(in: s, range: NSRange(location: 0, length: ns.length)) else { return nil }
        return ns.substring(with: m.range)
    }

    static func replyCode(in s: String) -> String? {
        let ns = s as NSString
        guard let m = replyPattern.firstMatch(in: s, range: NSRange(location: 0, length: ns.length)) else { return nil }
        return ns.substring(with: m.range(at: 1))
    }
}
