import AMQP
import Contracts
import Foundation
import ServiceSupport
import SMTP

/// One delivery in mta-sender's hands: the rendered message from the bus, where it came from
/// (to acknowledge it once its outcome is safe), and its history of attempts. A class: it passes
/// through several queues and actors, and a copy is then one reference, not a dozen.
final class OutboundMessage: Sendable {
    let delivery: AMQPDelivery
    let email: Herald_Delivery_V1_EmailDelivery
    /// The recipient's domain, lower case.
    let domain: String
    /// Attempts made before this one.
    let attempts: Int
    /// When the first attempt was made (or, before any, when the message arrived).
    let firstAttemptAt: Date
    /// When it entered this node's queue.
    let queuedAt: ContinuousClock.Instant

    init?(_ delivery: AMQPDelivery) {
        guard let email = try? Herald_Delivery_V1_EmailDelivery(serializedBytes: delivery.body),
              let at = email.recipient.lastIndex(of: "@") else { return nil }
        self.delivery = delivery
        self.email = email
        domain = email.recipient[email.recipient.index(after: at)...].lowercased()
        let headers = delivery.properties.headers
        attempts = Int(Self.integer(headers[EmailDelay.Header.attempt]) ?? 0)
        firstAttemptAt = Self.integer(headers[EmailDelay.Header.firstAttempt]).map { Date(timeIntervalSince1970: Double($0) / 1000) } ?? Date()
        queuedAt = .now
    }

    /// When it may be tried (a parked message), as milliseconds since 1970.
    var notBefore: Int64? { Self.integer(delivery.properties.headers[EmailDelay.Header.notBefore]) }

    var account: String { email.meta.accountID }

    /// The return path and the recipient, as SMTP carries them.
    var envelope: SMTPEnvelope { SMTPEnvelope(mailFrom: email.mailFrom, recipient: email.recipient) }

    /// True once the message is older than its sending's expiry, if it has one.
    var hasExpired: Bool { email.hasExpiresAt && email.expiresAt.date < Date() }

    private static func integer(_ value: AMQPFieldValue?) -> Int64? {
        switch value {
        case .int64(let n): n
        case .string(let s): Int64(s)
        default: nil
        }
    }
}

