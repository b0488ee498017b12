import AMQP
import Contracts
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Makes each outcome safe before its delivery is acknowledged: the events and parked copies
/// that a batch of outcomes produced are published together with publisher confirms, and only
/// then are the deliveries acknowledged. A node that dies in between leaves its deliveries
/// unacknowledged, and the broker gives them to another node: nothing is lost (at worst a
/// message is delivered twice, counted by its message id).
/// Events of a kind go out together, as one `MessageEventBatch` per kind and flush (at most 500
/// events each): the broker handles one message where it would handle hundreds.
final class Settlements: Service, Sendable {
    private struct Pending {
        var events: [Herald_Events_V1_MessageEvent] = []
        var messages: [AMQPMessage] = []
        var acks: [AMQPDelivery] = []
    }

    private let amqp: AMQPConnection
    private let logger: Logger
    private let pending = Mutex(Pending())
    private let flushInterval: Duration

    init(amqp: AMQPConnection, logger: Logger, flushInterval: Duration = .milliseconds(5)) {
        self.amqp = amqp
        self.logger = logger
        self.flushInterval = flushInterval
    }

    /// Publishes `event` and `messages`, then acknowledges `delivery`.
    func settle(_ delivery: AMQPDelivery, event: Herald_Events_V1_MessageEvent?, publishing messages: [AMQPMessage] = []) {
        pending.withLock {
            if let event { $0.events.append(event) }
            $0.messages += messages
            $0.acks.append(delivery)
        }
    }

    func run() async throws {
        while !Task.isCancelled {
            if !(await flush()) { try? await Task.sleep(for: flushInterval) }
        }
        _ = await flush()
    }

    /// Settles what is pending; false when there was nothing.
    @discardableResult
    func flush() async -> Bool {
        let batch = pending.withLock { p -> Pending in
            defer { p = Pending() }
            return p
        }
        guard !batch.acks.isEmpty || !batch.messages.isEmpty || !batch.events.isEmpty else { return false }
        let messages = batch.messages + Self.batches(of: batch.events)
        while true {
            do {
                try await amqp.publish(contentsOf: messages)
                for delivery in batch.acks { delivery.ack() }
                return true
            } catch {
                // Unconfirmed: keep trying. If the connection dropped, the deliveries come back
                // from the broker anyway and these acknowledgements are void.
                logger.warning("outcomes not confirmed yet; retrying", metadata: ["count": "\(messages.count)", "error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
                if Task.isCancelled { return true }
            }
        }
    }

    /// The events as batch messages, one per kind (and per 500 events).
    static func batches(of events: [Herald_Events_V1_MessageEvent]) -> [AMQPMessage] {
        guard !events.isEmpty else { return [] }
        var messages: [AMQPMessage] = []
        for (kind, group) in Dictionary(grouping: events, by: \.kind).sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            var start = 0
            while start < group.count {
                var batch = Herald_Events_V1_MessageEventBatch()
                batch.meta = .new(account: group[start].meta.accountID, producer: "mta-sender")
                batch.events = Array(group[start..<min(start + 500, group.count)])
                start += 500
                messages.append(AMQPMessage(exchange: BusExchange.events, routingKey: BusRoutingKey.message(kind), body: (try? batch.serializedBytes()) ?? [],
                                            messageId: batch.meta.eventID, type: "herald.events.v1.MessageEventBatch",
                                            contentType: "application/x-protobuf", appId: "mta-sender", timestamp: Date()))
            }
        }
        return messages
    }
}
