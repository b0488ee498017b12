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
        let text = bodyText(message)
        if text.contains("notificationType"), let ses = amazonSES(text) { return ses }
        if let dsn = parts.first(where: { $0.contentType == "message/delivery-status" || $0.contentType == "message/global-delivery-status" }) {
            let found = deliveryStatus(dsn, text: text)
            if !found.isEmpty { return found }
        }
        return plainText(message, text: text)
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

    static func deliveryStatus(_ dsn: MIMEPart, text: String) -> [Bounce] {
        let explanation = String(text.prefix(2000))
        var bounces: [Bounce] = []
        for block in fieldBlocks(dsn.text) {
            func field(_ name: String) -> String? { block.first { $0.name.lowercased() == name }?.value }
            guard let recipientField = field("final-recipient") ?? field("original-recipient"),
                  let recipient = address(in: recipientField) else { continue }
            let action = field("action")?.lowercased() ?? "failed"
            if action.hasPrefix("delivered") || action.hasPrefix("relayed") || action.hasPrefix("expanded") { continue }
            let diagnostic = withoutDiagnosticType(field("diagnostic-code") ?? "")
            var status = field("status").flatMap(statusCode(in:)) ?? ""
            if let specific = statusCode(in: diagnostic), status.isEmpty || status.hasSuffix(".0.0") && !specific.hasSuffix(".0.0") {
                status = specific
            }
            let reply = replyCode(in: diagnostic) ?? ""
            let reason = BounceReason.classify(status: status, diagnostic: diagnostic + " " + explanation, action: action)
            bounces.append(.failure(recipient, status: status, replyCode: reply, reason: reason, diagnostic: diagnostic))
        }
        return bounces
    }

    // MARK: Non-standard bounces

    static func plainText(_ message: MIMEPart, text: String) -> [Bounce] {
        let explanation = String(text.prefix(2000))
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        // Exim and Google name the failed recipients in a header: when it is there, it is the list.
        if let failed = message.header("X-Failed-Recipients") {
            return addresses(in: failed).map { recipient in
                let near = lines.firstIndex { $0.lowercased().contains(recipient) }.map { lines[$0..<min(lines.count, $0 + 6)].joined(separator: " ") } ?? explanation
                let status = statusCode(in: near) ?? statusCode(in: explanation) ?? ""
                let reply = replyCode(in: near) ?? replyCode(in: explanation) ?? ""
                // A Google Group refuses posts from non-members: whatever the language of the notice.
                let reason = recipient.hasSuffix("@googlegroups.com") && status.isEmpty
                    ? "rejected" : BounceReason.classify(status: status, diagnostic: near + " " + explanation, action: "failed")
                return .failure(recipient, status: status, replyCode: reply, reason: reason, diagnostic: near.trimmingCharacters(in: .whitespaces))
            }
        }
        var excluded = Set<String>()
        for name in ["From", "To", "Return-Path", "Sender", "Reply-To"] {
            if let a = message.header(name).flatMap(address(in:)) { excluded.insert(a) }
        }
        if let original = originalMessage(message), let from = original.header("From").flatMap(address(in:)) { excluded.insert(from) }
        // Message-IDs look like addresses; none of them is a recipient.
        for part in message.allParts {
            for (name, value) in part.headers where name.lowercased() == "message-id" {
                excluded.formUnion(addresses(in: value))
            }
            // Headers pasted into a text part (a returned original) carry Message-IDs too.
            for line in part.text.split(whereSeparator: \.isNewline) where line.count > 11 && line.prefix(11).lowercased() == "message-id:" {
                excluded.formUnion(addresses(in: String(line)))
            }
        }
        var bounces: [Bounce] = []
        var seen = Set<String>()
        for (i, line) in lines.enumerated() {
            for candidate in addresses(in: line) where !excluded.contains(candidate) && !seen.contains(candidate) && !isSystemAddress(candidate) {
                let context = lines[i..<min(lines.count, i + 6)].joined(separator: " ")
                seen.insert(candidate)
                let status = statusCode(in: context) ?? ""
                let reply = replyCode(in: context) ?? ""
                let reason = BounceReason.classify(status: status, diagnostic: context + " " + explanation, action: "failed")
                bounces.append(.failure(candidate, status: status, replyCode: reply, reason: reason, diagnostic: context.trimmingCharacters(in: .whitespaces)))
            }
        }
        if bounces.isEmpty, let to = originalMessage(message)?.header("To").flatMap(address(in:)) {
            let status = statusCode(in: text) ?? ""
            let reply = replyCode(in: text) ?? ""
            let reason = BounceReason.classify(status: status, diagnostic: explanation, action: "failed")
            bounces.append(.failure(to, status: status, replyCode: reply, reason: reason, diagnostic: ""))
        }
        return bounces
    }

    /// `smtp; 550 …` → `550 …`: the diagnostic without its type prefix.
    static func withoutDiagnosticType(_ diagnostic: String) -> String {
        guard let semicolon = diagnostic.firstIndex(of: ";"), diagnostic[..<semicolon].count < 12 else { return diagnostic }
        return String(diagnostic[diagnostic.index(after: semicolon)...]).trimmingCharacters(in: .whitespaces)
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
        var bytes = Array(texts.joined(separator: "\n").utf8)
        // A returned original pasted inline starts with one of these; what follows is not the bounce.
        for marker in originalMarkers {
            if let at = find(marker, in: bytes) { bytes.removeSubrange(at...) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static let originalMarkers: [[UInt8]] = [
        "------ This is a copy of the message", "--- Below this line is a copy of the message",
        "------- Returned Message --------", "----- Original message -----", "Original message follows",
        "Message headers follow", "--- The header of the original message", "------ Original message headers",
        "----- The following is a copy of", "--- Original message ---", "Original Message Headers",
    ].map { Array($0.utf8) }

    /// Where `needle` first occurs in `bytes`.
    static func find(_ needle: [UInt8], in bytes: [UInt8]) -> Int? {
        guard let first = needle.first, needle.count <= bytes.count else { return nil }
        var i = 0
        let last = bytes.count - needle.count
        while i <= last {
            if bytes[i] == first {
                var j = 1
                while j < needle.count && bytes[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }

    static func originalMessage(_ message: MIMEPart) -> MIMEPart? {
        message.allParts.first { ["message/rfc822", "text/rfc822-headers", "message/rfc822-headers"].contains($0.contentType) }?.parts.first
    }

    /// Groups of `Name: value` lines separated by blank lines (the DSN and ARF field syntax).
    static func fieldBlocks(_ text: String) -> [[(name: String, value: String)]] {
        var blocks: [[(name: String, value: String)]] = []
        var current: [(name: String, value: String)] = []
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = Array(raw.utf8)[...]
            if line.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) {
                if !current.isEmpty { blocks.append(current) }
                current = []
            } else if line.first == 32 || line.first == 9, !current.isEmpty {
                current[current.count - 1].value += " " + MIMEPart.trimmed(line)
            } else if let colon = line.firstIndex(of: 58) {
                current.append((MIMEPart.trimmed(line[..<colon]), MIMEPart.trimmed(line[(colon + 1)...])))
            }
        }
        if !current.isEmpty { blocks.append(current) }
        return blocks
    }

    /// Characters of an address's local part and domain (a permissive RFC 5322 subset).
    private static func isLocal(_ c: UInt8) -> Bool {
        (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || "._%+=/'!#$&*?^`{|}~-".utf8.contains(c)
    }

    private static func isDomain(_ c: UInt8) -> Bool {
        (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 46 || c == 45
    }

    /// Every address in `s`, in lower case, by scanning around each `@` (no regular expressions:
    /// bounces are analysed by the thousand).
    static func addresses(in s: String) -> [String] {
        let b = Array(s.utf8)
        var found: [String] = []
        var i = 0
        while i < b.count {
            guard b[i] == 64 else { i += 1; continue }
            var start = i
            while start > 0 && isLocal(b[start - 1]) { start -= 1 }
            var end = i + 1
            while end < b.count && isDomain(b[end]) { end += 1 }
            while end > i + 1 && (b[end - 1] == 46 || b[end - 1] == 45) { end -= 1 }
            while start < i && (b[start] == 46 || b[start] == 39 || b[start] == 96) { start += 1 }
            let domain = b[(i + 1)..<end]
            if start < i, let dot = domain.lastIndex(of: 46), end - dot > 2, dot > i + 1,
               b[(dot + 1)..<end].allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) })
            {
                found.append(String(decoding: b[start..<end], as: UTF8.self).lowercased())
            }
            i = end
        }
        return found
    }

    /// The first enhanced status code (RFC 3463: class.subject.detail) in `s`.
    static func statusCode(in s: String) -> String? {
        let b = Array(s.utf8)
        func digits(_ from: Int, max: Int) -> Int {
            var n = 0
            while from + n < b.count && n < max && b[from + n] >= 48 && b[from + n] <= 57 { n += 1 }
            return n
        }
        var i = 0
        while i + 4 < b.count {
            if (b[i] == 50 || b[i] == 52 || b[i] == 53), b[i + 1] == 46, i == 0 || !(isDomain(b[i - 1]) && b[i - 1] != 45) {
                let subject = digits(i + 2, max: 3)
                if subject > 0, i + 2 + subject < b.count, b[i + 2 + subject] == 46 {
                    let detailStart = i + 3 + subject
                    let detail = digits(detailStart, max: 3)
                    let after = detailStart + detail
                    if detail > 0, after >= b.count || !(b[after] >= 48 && b[after] <= 57) && b[after] != 46 {
                        return String(decoding: b[i..<after], as: UTF8.self)
                    }
                }
            }
            i += 1
        }
        return nil
    }

    /// The first SMTP reply code (a 2xx, 4xx or 5xx number standing alone) in `s`.
    static func replyCode(in s: String) -> String? {
        let b = Array(s.utf8)
        var i = 0
        while i + 2 < b.count {
            let isDigit = { (c: UInt8) in c >= 48 && c <= 57 }
            if (b[i] == 50 || b[i] == 52 || b[i] == 53), isDigit(b[i + 1]), isDigit(b[i + 2]),
               i == 0 || !(isDigit(b[i - 1]) || b[i - 1] == 46),
               i + 3 == b.count || b[i + 3] == 32 || b[i + 3] == 45
            {
                return String(decoding: b[i..<(i + 3)], as: UTF8.self)
            }
            i += 1
        }
        return nil
    }

    static func address(in s: String) -> String? { addresses(in: s).first }

}
