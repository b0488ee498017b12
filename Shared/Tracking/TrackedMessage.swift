import Foundation

/// What the tracker adds to one recipient's rendered email: every web link of the HTML rewritten
/// to a signed click link (`/c/…`, carrying its index and destination), an open pixel before
/// `</body>`, and the addresses a sender puts in its headers — the unsubscribe link for
/// `List-Unsubscribe` (RFC 8058 one-click) and the VERP return path that bounce-fbl-reader reads.
/// Links to `mailto:`, `tel:`, anchors, and links marked `data-herald-track="false"` stay as they are.
public struct TrackedMessage: Sendable {
    public let signer: TrackingSigner
    /// The tracker's public address: `https://track.example.com`.
    public let base: String
    /// The domain of return paths: `bounces+<token>@<domain>`.
    public let bounceDomain: String

    public init(signer: TrackingSigner, base: String, bounceDomain: String) {
        self.signer = signer
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.bounceDomain = bounceDomain
    }

    /// Who the message is for: the ids every token carries, and the subscription it went to.
    public struct Recipient: Sendable {
        public var accountId, databaseId, messageId, profileId: String
        public var channel, address, resource: String

        public init(accountId: String, databaseId: String, messageId: String, profileId: String, channel: String = "email", address: String, resource: String = "") {
            self.accountId = accountId
            self.databaseId = databaseId
            self.messageId = messageId
            self.profileId = profileId
            self.channel = channel
            self.address = address
            self.resource = resource
        }
    }

    func token(_ kind: TrackingToken.Kind, _ r: Recipient, link: Int = 0, url: String = "") -> String {
        signer.encode(TrackingToken(kind: kind, accountId: r.accountId, databaseId: r.databaseId, messageId: r.messageId, profileId: r.profileId,
                                    linkIndex: link, url: url, channel: r.channel, address: r.address, resource: r.resource))
    }

    public func unsubscribeURL(for recipient: Recipient) -> String { "\(base)/u/\(token(.unsubscribe, recipient))" }
    /// The message in a browser (`/w/…`), rendered again from its sending's content and the profile.
    public func webVersionURL(for recipient: Recipient) -> String { "\(base)/w/\(token(.webVersion, recipient))" }
    public func returnPath(for recipient: Recipient) -> String { "bounces+\(token(.bounce, recipient))@\(bounceDomain)" }

    /// The HTML with its web links tracked and (unless `pixel` is false, as for the web version) the open pixel added.
    public func html(_ html: String, for recipient: Recipient, pixel addPixel: Bool = true) -> String {
        var out = "", index = 0, rest = Substring(html)
        // href="…" or href='…' of <a> and <area> elements.
        while let found = rest.range(of: "href=", options: .caseInsensitive) {
            out += rest[..<found.upperBound]
            rest = rest[found.upperBound...]
            guard let quote = rest.first, quote == "\"" || quote == "'", let close = rest.dropFirst().firstIndex(of: quote) else { continue }
            let raw = String(rest[rest.index(after: rest.startIndex)..<close])
            let tagStart = out.range(of: "<", options: .backwards).map { out[$0.lowerBound...] } ?? ""
            let url = raw.replacingOccurrences(of: "&amp;", with: "&")
            let lower = url.lowercased()
            if (lower.hasPrefix("http://") || lower.hasPrefix("https://")) && !tagStart.lowercased().contains("data-herald-track=\"false\"") && !url.hasPrefix(base + "/u/") {
                out += String(quote) + "\(base)/c/\(token(.click, recipient, link: index, url: url))" + String(quote)
                index += 1
            } else {
                out += rest[...close]
            }
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        guard addPixel else { return out }
        let pixel = "<img src=\"\(base)/o/\(token(.open, recipient)).gif\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;border:0;width:1px;height:1px\">"
        if let body = out.range(of: "</body>", options: [.caseInsensitive, .backwards]) {
            out.insert(contentsOf: pixel, at: body.lowerBound)
        } else {
            out += pixel
        }
        return out
    }
}
