import AMQP
import Contracts
import Foundation
import ServiceSupport
import SMTP
import SwiftProtobuf

/// What becomes of a message: each outcome is an event (and, for a deferral, a parked copy),
/// published with confirms before the delivery is acknowledged.
extension MailSender {
    func event(_ message: OutboundMessage, _ kind: Herald_Events_V1_MessageEvent.Kind, host: String = "", reply: String = "",
               bounce: Herald_Events_V1_MessageEvent.Bounce? = nil, nextAttempt: Date? = nil, attempt: Int? = nil) -> Herald_Events_V1_MessageEvent {
        var event = Herald_Events_V1_MessageEvent()
        event.meta = .new(account: message.account, producer: "mta-sender")
        event.meta.traceID = message.email.meta.traceID.isEmpty ? message.email.meta.eventID : message.email.meta.traceID
        event.profile = message.email.profile
        event.kind = kind
        event.channel = .email
        event.messageID = message.email.messageID
        event.campaignID = message.email.campaignID
        event.scenarioID = message.email.scenarioID
        event.variantID = message.email.variantID
        event.recipient = message.email.recipient
        event.senderNode = configuration.node
        event.attempt = Int32(attempt ?? message.attempts + 1)
        event.remoteHost = host
        event.reply = String(reply.prefix(500))
        if let bounce { event.bounce = bounce }
        if let nextAttempt { event.nextAttemptAt = Google_Protobuf_Timestamp(date: nextAttempt) }
        return event
    }

    func settle(_ message: OutboundMessage, event: Herald_Events_V1_MessageEvent, parked: AMQPMessage? = nil) {
        settlements.settle(message.delivery, event: event, publishing: parked.map { [$0] } ?? [])
    }

    func bounce(_ message: OutboundMessage, reply: SMTPReply?, host: String, reason: String, diagnostic: String, hard: Bool) {
        var bounce = Herald_Events_V1_MessageEvent.Bounce()
        bounce.reason = reason
        bounce.hard = hard
        bounce.smtpCode = Int32(reply?.code ?? 0)
        bounce.enhancedStatus = reply?.enhancedStatus ?? ""
        bounce.diagnostic = String(diagnostic.prefix(500))
        bounce.remoteMta = host
        settle(message, event: event(message, .bounced, host: host, reply: reply?.description ?? diagnostic, bounce: bounce))
    }

    /// A temporary failure: tried again after the rule's next delay, or expired when that would
    /// pass the rule's maximum age.
    func defer_(_ message: OutboundMessage, rule: DestinationRule, reply: String, host: String, now: Date, site: String? = nil) {
        let attempts = message.attempts + 1
        let firstAttemptAt = message.attempts == 0 ? min(message.firstAttemptAt, now) : message.firstAttemptAt
        let next = now.addingTimeInterval(rule.retry.delay(afterAttempt: attempts))
        if next.timeIntervalSince(firstAttemptAt) > Double(rule.retry.maxAgeSeconds) {
            expire(message, reason: "still deferred after \(attempts) attempts: \(reply)", attempt: attempts, host: host)
            return
        }
        let parked = EmailDelay.parking(body: message.delivery.body, properties: message.delivery.properties, notBefore: next,
                                         attempts: attempts, firstAttemptAt: firstAttemptAt, site: site, now: now)
        settle(message, event: event(message, .deferred, host: host, reply: reply, nextAttempt: next, attempt: attempts), parked: parked)
    }

    /// Holds a message back without an attempt (the destination backs off, is paused, or the
    /// message came back from a delay queue early).
    func park(_ message: OutboundMessage, until: Date, site: String) {
        let parked = EmailDelay.parking(body: message.delivery.body, properties: message.delivery.properties, notBefore: until,
                                         attempts: message.attempts, firstAttemptAt: message.firstAttemptAt, site: site)
        settlements.settle(message.delivery, event: nil, publishing: [parked])
    }

    func expire(_ message: OutboundMessage, reason: String, attempt: Int? = nil, host: String = "") {
        var bounce = Herald_Events_V1_MessageEvent.Bounce()
        bounce.reason = "expired"
        bounce.diagnostic = String(reason.prefix(500))
        settle(message, event: event(message, .expired, host: host, reply: reason, bounce: bounce, attempt: attempt))
    }

    /// Not sent, and never will be: stop-listed, purged by an operator.
    func fail(_ message: OutboundMessage, reason: String, diagnostic: String) {
        var bounce = Herald_Events_V1_MessageEvent.Bounce()
        bounce.reason = reason
        bounce.diagnostic = String(diagnostic.prefix(500))
        settle(message, event: event(message, .failed, reply: diagnostic, bounce: bounce, attempt: message.attempts))
    }
}
