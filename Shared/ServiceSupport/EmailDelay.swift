import AMQP
import Foundation

/// Where deferred and held-back messages wait: RabbitMQ queues with a fixed time to live
/// (1 s … 1 h, `BusTopology.emailDelayTiers`), each dead-lettering into `delivery.email.retry`.
/// A message waits in the longest tier that does not overshoot its due time and, when it comes
/// back early, goes into a shorter one — so any delay (with its jitter) is kept to within a
/// second, every waiting message survives a restart of any node, and a tier's messages always
/// expire in the order they came.
public enum EmailDelay {
    /// The tier for a wait of `seconds`: the longest that does not overshoot it (1 s at least).
    public static func tier(for seconds: Double) -> Int {
        BusTopology.emailDelayTiers.last { Double($0) <= seconds } ?? BusTopology.emailDelayTiers[0]
    }

    /// The message to publish (through the default exchange) to park `body` until `notBefore`:
    /// mta-sender's deferrals, and job-server's messages due later (quiet hours, the recipient's time zone).
    /// `site` (mta-sender's destination, its MX hosts) lets "retry now" find the message among the others.
    public static func parking(body: [UInt8], properties: AMQPProperties, notBefore: Date, attempts: Int, firstAttemptAt: Date, site: String? = nil,
                               now: Date = Date()) -> AMQPMessage {
        var properties = properties
        if let site { properties.headers[Header.site] = .string(site) }
        properties.persistent = true
        properties.expiration = nil
        properties.headers[Header.notBefore] = .int64(Int64(notBefore.timeIntervalSince1970 * 1000))
        properties.headers[Header.attempt] = .int64(Int64(attempts))
        properties.headers[Header.firstAttempt] = .int64(Int64(firstAttemptAt.timeIntervalSince1970 * 1000))
        let queue = BusTopology.emailDelayQueue(tier(for: notBefore.timeIntervalSince(now)))
        return AMQPMessage(exchange: "", routingKey: queue, body: body, properties: properties)
    }

    /// Headers a deferred or held-back message carries through the delay queues (milliseconds since 1970).
    public enum Header {
        public static let attempt = "x-herald-attempt"
        public static let firstAttempt = "x-herald-first-attempt"
        public static let notBefore = "x-herald-not-before"
        /// The destination (MX hosts) a deferred message waits for.
        public static let site = "x-herald-site"
    }
}
