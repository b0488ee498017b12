/// One recipient's failure (or complaint) found in a bounce or feedback message.
public struct Bounce: Sendable, Equatable {
    /// What Herald does with it.
    public enum Kind: String, Sendable {
        /// Permanent: the subscription becomes bounced, the address goes on the stop list.
        case hard
        /// Temporary: counted; after the configured number it becomes hard.
        case soft
        /// A spam complaint (ARF feedback loop): unsubscribe and stop-list.
        case complaint
    }

    /// The address that failed, in lower case.
    public var recipient: String
    /// The RFC 3463 enhanced status code, e.g. `5.1.1` (empty when the message has none).
    public var status: String
    /// The SMTP reply code, e.g. `550` (empty when the message has none).
    public var replyCode: String
    /// Why, in the words of the bounce classifier (Sisimai's reason names: userunknown, mailboxfull,
    /// hostunknown, blocked, spamdetected, expired, feedback, …).
    public var reason: String
    public var kind: Kind
    /// The remote server's own text.
    public var diagnostic: String
    /// The feedback type of a complaint (`abuse`, `fraud`, …).
    public var feedbackType: String?
}

extension Bounce {
    /// A failure whose kind follows from its reason and codes (`BounceReason.kind`).
    static func failure(_ recipient: String, status: String, replyCode: String, reason: String, diagnostic: String) -> Bounce {
        Bounce(recipient: recipient, status: status, replyCode: replyCode, reason: reason,
               kind: BounceReason.kind(reason: reason, status: status, replyCode: replyCode), diagnostic: diagnostic)
    }
}

extension Bounce {
    /// A failure a receiving server gave synchronously (an SMTP reply during the transaction),
    /// classified as a bounce message of the same words would be.
    /// - Parameters:
    ///   - recipient: the address the reply was about.
    ///   - code: the reply code, e.g. 550.
    ///   - status: the enhanced status code when the reply had one.
    ///   - text: the reply's text.
    public static func fromReply(recipient: String, code: Int, status: String?, text: String) -> Bounce {
        let status = status ?? ""
        let reason = BounceReason.classify(status: status, diagnostic: text, action: "failed")
        return failure(recipient.lowercased(), status: status, replyCode: "\(code)", reason: reason, diagnostic: text)
    }
}
