/// Who a message is from and to, as SMTP carries it (not the headers): the return path, where
/// bounces go (a VERP address), and the recipients.
public struct SMTPEnvelope: Sendable, Equatable {
    public var mailFrom: String
    public var recipients: [String]

    public init(mailFrom: String, recipients: [String]) {
        self.mailFrom = mailFrom
        self.recipients = recipients
    }

    public init(mailFrom: String, recipient: String) {
        self.init(mailFrom: mailFrom, recipients: [recipient])
    }

    /// True when an address needs SMTPUTF8 (RFC 6531): it has a byte outside ASCII.
    var needsSMTPUTF8: Bool {
        mailFrom.utf8.contains { $0 >= 0x80 } || recipients.contains { $0.utf8.contains { $0 >= 0x80 } }
    }
}

/// What became of one message in a session: the recipients the server took and the ones it
/// refused, and its answer to the end of the message.
public struct SMTPTransaction: Sendable, Equatable {
    public var accepted: [String]
    public var refused: [String: SMTPReply]
    /// The answer to the end of the data (250 for a delivered message).
    public var reply: SMTPReply
}
