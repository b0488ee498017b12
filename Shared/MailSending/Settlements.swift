import AMQP
import Logging
import ServiceLifecycle
import Synchronization

/// Makes each outcome safe before its delivery is acknowledged: the events and parked copies
/// that a batch of outcomes produced are published together with publisher confirms, and only
/// then are the deliveries acknowledged. A node that dies in between leaves its deliveries
/// unacknowledged, and the broker gives them to another node: nothing is lost (at worst a
/// message is delivered twice, counted by its message id).
final class Settlements: Service, Sendable {
    private struct Pending {
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

    /// Publishes `messages`, then acknowledges `delivery`.
    func settle(_ delivery: AMQPDelivery, publishing messages: [AMQPMessage]) {
        pending.withLock {
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
        guard !batch.acks.isEmpty || !batch.messages.isEmpty else { return false }
        while true {
            do {
                try await amqp.publish(contentsOf: batch.messages)
                for delivery in batch.acks { delivery.ack() }
                return true
            } catch {
                // Unconfirmed: keep trying. If the connection dropped, the deliveries come back
                // from the broker anyway and these acknowledgements are void.
                logger.warning("outcomes not confirmed yet; retrying", metadata: ["count": "\(batch.messages.count)", "error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
                if Task.isCancelled { return true }
            }
        }
    }
}
