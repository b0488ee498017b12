import AMQP
import Foundation
import HeraldTesting
import Testing

/// Restarts a broker node of its own (port 5673) while messages flow.
@Suite("AMQP reconnect", .serialized)
struct AMQPReconnectTests {
    @Test func brokerRestartLosesNoConfirmedMessage() async throws {
        let node = RabbitMQNode(port: 5673)
        try node.start()
        defer { try? node.stop() }
        let queue = TestEnvironment.uniqueName("restart")
        let total = 2_000

        try await withConnection(url: node.url, name: "restart-test") { c in
            try await c.declare(AMQPTopology(queues: [.init(queue, durable: true)]))
            let consumer = try await c.consume(queue: queue, prefetch: 200)

            // Publish in small confirmed batches, paced so that the broker goes down mid-stream.
            let confirmed = Confirmed()
            let publisher = Task {
                for start in stride(from: 0, to: total, by: 20) {
                    let batch = (start..<(start + 20)).map { message($0, to: queue) }
                    try await c.publish(contentsOf: batch)
                    confirmed.add(batch.compactMap(\.properties.messageId))
                    try await Task.sleep(for: .milliseconds(15))
                }
            }
            var received = Set<String>()
            var restarted = false
            for try await d in consumer {
                received.insert(d.properties.messageId ?? "")
                d.ack()
                if !restarted && received.count >= 300 {
                    restarted = true
                    try node.stop()
                    try node.start()
                }
                if received.count == total { break }
            }
            try await publisher.value
            consumer.cancel()
            #expect(restarted)
            #expect(c.connectionCount == 2, "one reconnect after the restart")
            #expect(confirmed.ids.count == total, "the publisher went on through the restart")
            #expect(confirmed.ids.isSubset(of: received), "every confirmed message arrived")
            #expect(received.count == total)
            try await c.deleteQueue(queue)
        }
    }
}

extension AMQPReconnectTests {
    /// A non-durable queue and its binding die with the broker; after the reconnect the connection
    /// declares them again and the consumer goes on, so a message published afterwards arrives.
    @Test func reconnectDeclaresTheTopologyAgainAndResumesConsumers() async throws {
        let node = RabbitMQNode(port: 5673)
        try node.start()
        defer { try? node.stop() }
        let exchange = TestEnvironment.uniqueName("x")
        let queue = TestEnvironment.uniqueName("transient")
        try await withConnection(url: node.url, name: "redeclare-test") { c in
            try await c.declare(AMQPTopology(
                exchanges: [.init(exchange, kind: .topic, durable: false)],
                queues: [.init(queue, durable: false)],
                bindings: [.init(queue: queue, exchange: exchange, routingKey: "profile.*")]
            ))
            let consumer = try await c.consume(queue: queue)
            try node.stop()
            try node.start()
            try await c.waitUntilConnected(timeout: .seconds(30))
            #expect(c.connectionCount == 2)
            try await c.publish(AMQPMessage(exchange: exchange, routingKey: "profile.updated", body: Array("after".utf8), messageId: "after"))
            var iterator = consumer.makeAsyncIterator()
            let delivery = try #require(try await iterator.next())
            #expect(delivery.properties.messageId == "after")
            delivery.ack()
            consumer.cancel()
        }
    }
}

final class Confirmed: @unchecked Sendable {
    private let lock = NSLock()
    private var set = Set<String>()
    func add(_ ids: [String]) { lock.withLock { set.formUnion(ids) } }
    var ids: Set<String> { lock.withLock { set } }
}
