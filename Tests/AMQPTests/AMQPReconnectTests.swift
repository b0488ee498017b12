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

final class Confirmed: @unchecked Sendable {
    private let lock = NSLock()
    private var set = Set<String>()
    func add(_ ids: [String]) { lock.withLock { set.formUnion(ids) } }
    var ids: Set<String> { lock.withLock { set } }
}
