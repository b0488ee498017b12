import AMQP
import Contracts
import Foundation
import Synchronization

/// "Retry now" for one destination: takes its deferred messages out of the delay queues and puts
/// them on `delivery.email.retry` at once, instead of leaving them to their delay tier's time.
///
/// Each tier is read with a consumer of its own. The destination's messages (by the
/// `x-herald-site` header mta-sender writes when it parks one) are published to the retry queue
/// without their due time, with confirms, and only then acknowledged; every other message is left
/// unacknowledged and goes back to its place in its tier, with its time to live unchanged, when the
/// consumer closes. At most `perTier` messages of each tier are looked at (the prefetch limit).
public enum DelayedEmailRelease {
    public static func release(site: String, amqp: AMQPConnection, perTier: Int = 65_535) async throws -> Int {
        var released = 0
        for tier in BusTopology.emailDelayTiers {
            let queue = BusTopology.emailDelayQueue(tier)
            let waiting = try await amqp.messageCount(queue: queue)
            guard waiting > 0 else { continue }
            let limit = min(waiting, perTier, 65_535)
            let consumer = try await amqp.consume(queue: queue, prefetch: UInt16(limit))
            let taken = Mutex<[AMQPDelivery]>([])
            let reader = Task {
                for try await batch in consumer.batches {
                    let count = taken.withLock { $0 += batch; return $0.count }
                    if count >= limit { break }
                }
            }
            // Until the tier's messages have all come, or none came for a moment (some expired meanwhile).
            var seen = 0, quiet = 0
            while quiet < 10 {
                try await Task.sleep(for: .milliseconds(50))
                let count = taken.withLock { $0.count }
                if count >= limit { break }
                quiet = count == seen ? quiet + 1 : 0
                seen = count
            }
            let deliveries = taken.withLock { Array($0.prefix(limit)) }
            let mine = deliveries.filter { $0.properties.headers[EmailDelay.Header.site] == .string(site) }
            if !mine.isEmpty {
                try await amqp.publish(contentsOf: mine.map { delivery in
                    var properties = delivery.properties
                    properties.headers[EmailDelay.Header.notBefore] = nil
                    return AMQPMessage(exchange: BusExchange.delivery, routingKey: BusRoutingKey.retryEmail, body: delivery.body, properties: properties)
                })
                for delivery in mine { delivery.ack() }
                released += mine.count
            }
            // The others return to their tier when the consumer's channel closes.
            consumer.cancel()
            reader.cancel()
        }
        return released
    }
}
