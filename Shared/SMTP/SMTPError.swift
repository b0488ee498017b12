/// Why an SMTP exchange failed: the connection, TLS, a reply, or the protocol itself.
public enum SMTPError: Error, Sendable, CustomStringConvertible {
    /// No connection could be made to the host.
    case connectionFailed(host: String, port: Int, reason: String)
    /// The server answered a stage (greeting, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, end of data)
    /// with a reply that ends the attempt.
    case rejected(stage: String, reply: SMTPReply)
    /// STARTTLS was required but not offered, or the handshake or certificate check failed.
    case tlsFailed(String)
    /// The server sent nothing within the time allowed for the stage.
    case timedOut(stage: String)
    /// The server closed the connection before answering.
    case connectionClosed(stage: String)
    /// The server sent something that is not SMTP.
    case protocolViolation(String)
    /// The message cannot be sent to this server at all (too large for its SIZE, or an
    /// internationalised address to a server without SMTPUTF8).
    case unsendable(String)

    /// The reply behind the failure, when a server gave one.
    public var reply: SMTPReply? {
        if case .rejected(_, let reply) = self { return reply }
        return nil
    }

    /// True when trying again later may succeed: 4xx replies and every network failure.
    public var isTransient: Bool {
        switch self {
        case .rejected(_, let reply): reply.isTransient
        case .unsendable: false
        default: true
        }
    }

    public var description: String {
        switch self {
        case .connectionFailed(let host, let port, let reason): "could not connect to \(host):\(port): \(reason)"
        case .rejected(let stage, let reply): "\(stage) was answered \(reply)"
        case .tlsFailed(let reason): "STARTTLS failed: \(reason)"
        case .timedOut(let stage): "no answer to \(stage) in time"
        case .connectionClosed(let stage): "the server closed the connection during \(stage)"
        case .protocolViolation(let reason): "the server broke the protocol: \(reason)"
        case .unsendable(let reason): reason
        }
    }
}
