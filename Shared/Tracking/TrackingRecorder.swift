import AMQP
import Contracts
import Foundation
import Logging
import ServiceLifecycle
import SwiftProtobuf

/// What the tracker saw, on its way to the bus: requests hand events over without waiting
/// (a redirect never waits for the broker); a background task publishes them in batches with
/// publisher confirms, and when the broker is down keeps each batch in the local spool, drained
/// in order when the broker is back. Stopping flushes what is pending to the broker or the spool.
public final class TrackingRecorder: Service, @unchecked Sendable {
    // @unchecked Sendable: `pending` is guarded by `lock`.
    let amqp: AMQPConnection
    let spool: EventSpool
    let logger: Logger
    let batchSize: Int
    let interval: Duration
    private let lock = NSLock()
    private var pending: [Herald_Events_V1_ActivityEvent] = []
    private var accounts: [String] = []

    public init(amqp: AMQPConnection, spool: EventSpool, batchSize: Int = 500, interval: Duration = .milliseconds(50), logger: Logger) {
        self.amqp = amqp
        self.spool = spool
        self.batchSize = batchSize
        self.interval = interval
        self.logger = logger
    }

    /// Hands an event over (returns at once).
    public func record(_ event: Herald_Events_V1_ActivityEvent, account: String) {
        lock.withLock {
            pending.append(event)
            accounts.append(account)
        }
    }

    public var waiting: Int {
        lock.withLock { pending.count }
    }

    /// Everything pending, taken out.
    private func take() -> ([Herald_Events_V1_ActivityEvent], [String]) {
        lock.withLock {
            defer {
                pending.removeAll(keepingCapacity: true)
                accounts.removeAll(keepingCapacity: true)
            }
            return (pending, accounts)
        }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.flush()
                await self.drainSpool()
                try? await Task.sleep(for: self.interval)
            }
        }
        await flush()
    }

    /// Publishes what is pending, one batch per account; a batch the broker does not confirm goes
    /// to the spool.
    public func flush() async {
        let (events, owners) = take()
        guard !events.isEmpty else { return }
        var byAccount: [String: [Herald_Events_V1_ActivityEvent]] = [:]
        for (event, account) in zip(events, owners) { byAccount[account, default: []].append(event) }
        var messages: [AMQPMessage] = [], bodies: [[UInt8]] = []
        for (account, events) in byAccount.sorted(by: { $0.key < $1.key }) {
            for start in stride(from: 0, to: events.count, by: batchSize) {
                var batch = Herald_Events_V1_ActivityBatch()
                batch.meta = .new(account: account, producer: "tracker")
                batch.events = Array(events[start..<min(events.count, start + batchSize)])
                guard let body: [UInt8] = try? batch.serializedBytes() else { continue }
                bodies.append(body)
                messages.append(Self.message(body, id: batch.meta.eventID))
            }
        }
        if amqp.isConnected {
            do {
                try await amqp.publish(contentsOf: messages)
                return
            } catch {
                logger.warning("tracker: the broker did not confirm events; keeping them on disk", metadata: ["error": "\(error)"])
            }
        }
        for body in bodies {
            do {
                try spool.store(body)
            } catch {
                logger.error("tracker: events could be neither published nor kept", metadata: ["error": "\(error)", "events": "\(events.count)"])
            }
        }
    }

    /// Publishes the spooled batches, oldest first, while the broker takes them.
    public func drainSpool() async {
        guard amqp.isConnected else { return }
        for file in spool.pending() {
            guard let body = try? spool.read(file) else { spool.remove(file); continue }
            let id = (try? Herald_Events_V1_ActivityBatch(serializedBytes: body))?.meta.eventID ?? UUID().uuidString
            do {
                try await amqp.publish(Self.message(body, id: id))
                spool.remove(file)
            } catch {
                return  // the broker is gone again; the rest waits
            }
        }
    }

    static func message(_ body: [UInt8], id: String) -> AMQPMessage {
        AMQPMessage(exchange: BusExchange.events, routingKey: BusRoutingKey.activity("batch"), body: body, messageId: id,
                    type: "herald.events.v1.ActivityBatch", contentType: "application/x-protobuf", appId: "tracker", timestamp: Date())
    }
}
