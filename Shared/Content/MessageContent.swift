import CustomerData
import Foundation

/// What a message says, for one channel; every text is a template (docs/templates.md). An email
/// has a subject, a preheader, a sender, HTML (written, or built from blocks: ``EmailDesign``) and
/// a plain-text part (made from the HTML when left empty); an SMS, a Telegram message and a
/// custom channel's payload have a body; a push has a title, a body, an image, a deep link and
/// buttons; an inbox message a title, a body and a link.
public struct MessageContent: Codable, Sendable, Equatable {
    public var subject: String
    public var preheader: String
    public var fromName: String
    public var fromAddress: String
    public var replyTo: String
    public var html: String
    /// The plain-text part; empty: made from the HTML.
    public var text: String
    /// The block builder's design, when the HTML is made from blocks.
    public var design: EmailDesign?
    public var title: String
    public var body: String
    public var image: String
    public var link: String
    public var buttons: [PushButton]

    public init(subject: String = "", preheader: String = "", fromName: String = "", fromAddress: String = "", replyTo: String = "",
                html: String = "", text: String = "", design: EmailDesign? = nil, title: String = "", body: String = "", image: String = "",
                link: String = "", buttons: [PushButton] = [])
    {
        self.subject = subject
        self.preheader = preheader
        self.fromName = fromName
        self.fromAddress = fromAddress
        self.replyTo = replyTo
        self.html = html
        self.text = text
        self.design = design
        self.title = title
        self.body = body
        self.image = image
        self.link = link
        self.buttons = buttons
    }

    private enum CodingKeys: String, CodingKey { case subject, preheader, fromName, fromAddress, replyTo, html, text, design, title, body, image, link, buttons }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func text(_ key: CodingKeys) throws -> String { try c.decodeIfPresent(String.self, forKey: key) ?? "" }
        self.init(subject: try text(.subject), preheader: try text(.preheader), fromName: try text(.fromName), fromAddress: try text(.fromAddress),
                  replyTo: try text(.replyTo), html: try text(.html), text: try text(.text), design: try c.decodeIfPresent(EmailDesign.self, forKey: .design),
                  title: try text(.title), body: try text(.body), image: try text(.image), link: try text(.link),
                  buttons: try c.decodeIfPresent([PushButton].self, forKey: .buttons) ?? [])
    }

    /// The parts a channel sends, by name, each a template source.
    public func parts(for channel: Subscription.Channel) -> [(name: String, source: String)] {
        switch channel {
        case .email:
            var parts = [("subject", subject), ("preheader", preheader), ("fromName", fromName), ("html", html)]
            if !text.isEmpty { parts.append(("text", text)) }
            return parts
        case .sms, .telegram, .custom: return [("body", body)]
        case .webPush, .mobilePush:
            var parts = [("title", title), ("body", body), ("image", image), ("link", link)]
            for (index, button) in buttons.enumerated() {
                parts.append(("buttons[\(index)].title", button.title))
                parts.append(("buttons[\(index)].link", button.link))
            }
            return parts
        case .inbox: return [("title", title), ("body", body), ("link", link)]
        }
    }
}

/// An action button of a push.
public struct PushButton: Codable, Sendable, Equatable {
    public var title: String
    public var link: String

    public init(title: String, link: String) {
        self.title = title
        self.link = link
    }
}
