import Foundation

/// An email to send: RFC 5322 headers and a MIME body (RFC 2045–2047), HTML with its plain-text
/// alternative, one-click unsubscribe headers (RFC 8058), CRLF line ends throughout.
public struct MailMessage: Sendable {
    public var from: MailAddress
    public var to: [MailAddress]
    public var replyTo: MailAddress?
    public var subject: String
    public var date: Date
    /// Without angle brackets, e.g. `m7.c42@herald.example.com`.
    public var messageID: String
    public var text: String?
    public var html: String?
    /// `List-Unsubscribe`: the one-click HTTPS address (and optionally a mailto:).
    public var unsubscribeURL: String?
    public var unsubscribeMailto: String?
    /// More headers, written as given (ASCII values are not encoded).
    public var headers: [(name: String, value: String)]

    public init(from: MailAddress, to: [MailAddress], subject: String, text: String? = nil, html: String? = nil,
                replyTo: MailAddress? = nil, date: Date = Date(), messageID: String, unsubscribeURL: String? = nil,
                unsubscribeMailto: String? = nil, headers: [(name: String, value: String)] = [])
    {
        self.from = from
        self.to = to
        self.replyTo = replyTo
        self.subject = subject
        self.date = date
        self.messageID = messageID
        self.text = text
        self.html = html
        self.unsubscribeURL = unsubscribeURL
        self.unsubscribeMailto = unsubscribeMailto
        self.headers = headers
    }

    /// The message as bytes, ready to be signed (DKIM) and sent.
    ///
    /// - Parameter boundary: The multipart boundary (a fresh random one by default).
    public func rendered(boundary: String = "herald-" + UUID().uuidString.lowercased()) -> [UInt8] {
        var lines: [String] = []
        lines.append(HeaderEncoding.line("From", from.headerValue, raw: true))
        lines.append(HeaderEncoding.line("To", to.map(\.headerValue).joined(separator: ", "), raw: true))
        if let replyTo { lines.append(HeaderEncoding.line("Reply-To", replyTo.headerValue, raw: true)) }
        lines.append(HeaderEncoding.line("Subject", subject))
        lines.append("Date: " + Self.rfc5322Date(date))
        lines.append("Message-ID: <\(messageID)>")
        lines.append("MIME-Version: 1.0")
        var unsubscribe: [String] = []
        if let unsubscribeURL { unsubscribe.append("<\(unsubscribeURL)>") }
        if let unsubscribeMailto { unsubscribe.append("<mailto:\(unsubscribeMailto)>") }
        if !unsubscribe.isEmpty {
            lines.append(HeaderEncoding.line("List-Unsubscribe", unsubscribe.joined(separator: ", "), raw: true))
            if unsubscribeURL != nil { lines.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click") }
        }
        for (name, value) in headers { lines.append(HeaderEncoding.line(name, value)) }

        func part(_ type: String, _ body: String) -> [String] {
            ["Content-Type: \(type); charset=utf-8", "Content-Transfer-Encoding: quoted-printable", "", QuotedPrintable.encode(body)]
        }
        switch (text, html) {
        case let (text?, html?):
            lines.append("Content-Type: multipart/alternative; boundary=\"\(boundary)\"")
            lines.append("")
            lines.append("--\(boundary)")
            lines += part("text/plain", text)
            lines.append("--\(boundary)")
            lines += part("text/html", html)
            lines.append("--\(boundary)--")
        case let (nil, html?):
            lines += part("text/html", html)
        default:
            lines += part("text/plain", text ?? "")
        }
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    /// `Sat, 28 Nov 2026 21:28:08 +0000`.
    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }
}
