import AMQP
import Foundation
import HeraldTesting
import Testing

@Suite("AMQP connection")
struct AMQPConnectionTests {
    @Test func tenThousandConfirmedMessagesAllArrive() async throws {
        try await withConnection { c in
            let queue = TestEnvironment.uniqueName("confirm")
            try await c.declare(AMQPTopology(queues: [.init(queue, durable: true)]))
            let total = 10_000
            // Publish from several tasks at once, as services do; the window bounds what is in flight.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for part in 0..<4 {
                    group.addTask {
                        let messages = stride(from: part, to: total, by: 4).map { message($0, to: queue) }
                        try await c.publish(contentsOf: messages)
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await c.messageCount(queue: queue) == total)

            let consumer = try await c.consume(queue: queue, prefetch: 500)
            var seen = Set<String>()
            for try await d in consumer {
                seen.insert(d.properties.messageId ?? "")
                #expect(d.properties.type == "test.v1")
                #expect(d.properties.persistent)
                d.ack()
                if seen.count == total { break }
            }
            consumer.cancel()
            #expect(seen.count == total)
            #expect(seen == Set((0..<total).map(String.init)))
            try await c.deleteQueue(queue)
        }
    }

    @Test func propertiesAndHeadersRoundTrip() async throws {
        try await withConnection { c in
            let queue = TestEnvironment.uniqueName("props")
            try await c.declare(AMQPTopology(queues: [.init(queue, durable: false, autoDelete: false)]))
            let sent = AMQPMessage(
                exchange: "", routingKey: queue, body: Array("{}".utf8), messageId: "m-1", type: "herald.events.v1.ProfileEvent",
                contentType: "application/x-protobuf", correlationId: "c-1", replyTo: "r", appId: "control",
                timestamp: Date(timeIntervalSince1970: 1_700_000_000), headers: ["account": .int64(42), "trace": .string("abc"), "test": .bool(true)],
                persistent: false)
            try await c.publish(sent)
            let consumer = try await c.consume(queue: queue)
            var iterator = consumer.makeAsyncIterator()
            let d = try #require(try await iterator.next())
            d.ack()
            #expect(d.body == Array("{}".utf8))
            #expect(d.routingKey == queue)
            #expect(!d.redelivered)
            #expect(d.properties == AMQPProperties(
                messageId: "m-1", type: "herald.events.v1.ProfileEvent", contentType: "application/x-protobuf", correlationId: "c-1",
                replyTo: "r", appId: "control", timestamp: Date(timeIntervalSince1970: 1_700_000_000),
                headers: ["account": .int64(42), "trace": .string("abc"), "test": .bool(true)], persistent: false))
            consumer.cancel()
            try await c.deleteQueue(queue)
        }
    }

    @Test func unackedDeliveriesOfADeadConsumerAreRedelivered() async throws {
        let queue = TestEnvironment.uniqueName("redeliver")
        try await withConnection { c in
            try await c.declare(AMQPTopology(queues: [.init(queue)]))
            try await c.publish(contentsOf: (0..<50).map { message($0, to: queue) })
        }
        // The first consumer takes 20 deliveries, acks 5, and dies with the other 15 unacknowledged.
        let dying = AMQPConnection(configuration: try AMQPConfiguration(url: TestEnvironment.amqpURL), logger: TestEnvironment.logger("amqp"))
        try await dying.waitUntilConnected()
        let first = try await dying.consume(queue: queue, prefetch: 20)
        var received = 0
        var acknowledged = Set<String>()
        var unacknowledged = Set<String>()
        for try await d in first {
            received += 1
            if received <= 5 {
                d.ack()
                acknowledged.insert(d.properties.messageId ?? "")
            } else {
                unacknowledged.insert(d.properties.messageId ?? "")
            }
            if received == 20 { break }
        }
        // A confirmed publish after the acks: they went out before it, so the broker has them. (A
        // real crash may lose acks still on the wire; their deliveries then come again, at least once.)
        let marker = TestEnvironment.uniqueName("marker")
        try await dying.declare(AMQPTopology(queues: [.init(marker, durable: false, exclusive: true)]))
        try await dying.publish(contentsOf: [message(0, to: marker)])
        await dying.simulateCrash()

        try await withConnection { c in
            let consumer = try await c.consume(queue: queue, prefetch: 100)
            var ids: [String] = []
            var redelivered = Set<String>()
            for try await d in consumer {
                ids.append(d.properties.messageId ?? "")
                if d.redelivered { redelivered.insert(d.properties.messageId ?? "") }
                d.ack()
                if ids.count == 45 { break }
            }
            consumer.cancel()
            #expect(Set(ids).count == 45, "every message but the 5 acknowledged ones")
            // The 15 seen but not acknowledged come back marked as redelivered (with any that the
            // broker had already pushed into the dead consumer's prefetch buffer).
            #expect(unacknowledged.count == 15)
            #expect(redelivered.isSuperset(of: unacknowledged))
            #expect(acknowledged.isDisjoint(with: ids), "acknowledged messages are not delivered again")
            try await c.deleteQueue(queue)
        }
    }

    @Test func rejectedMessagesAreDeadLettered() async throws {
        try await withConnection { c in
            let work = TestEnvironment.uniqueName("work")
            let dlx = work + ".dlx"
            let dead = work + ".dead"
            try await c.declare(AMQPTopology(
                exchanges: [.init(dlx, kind: .direct)],
                queues: [.init(work, deadLetterExchange: dlx, deadLetterRoutingKey: "dead", messageTTL: 60_000, maxLength: 1000), .init(dead)],
                bindings: [.init(queue: dead, exchange: dlx, routingKey: "dead")]
            ))
            try await c.publish(message(1, to: work))
            let consumer = try await c.consume(queue: work)
            for try await d in consumer {
                d.reject(requeue: false)
                break
            }
            let deadConsumer = try await c.consume(queue: dead)
            for try await d in deadConsumer {
                #expect(d.properties.messageId == "1")
                d.ack()
                break
            }
            consumer.cancel()
            deadConsumer.cancel()
            try await c.deleteQueue(work)
            try await c.deleteQueue(dead)
        }
    }

    @Test func brokerRefusalsAreClearErrorsAndTheConnectionGoesOn() async throws {
        try await withConnection { c in
            let queue = TestEnvironment.uniqueName("conflict")
            try await c.declare(AMQPTopology(queues: [.init(queue, messageTTL: 1000)]))
            await #expect {
                try await c.declare(AMQPTopology(queues: [.init(queue, messageTTL: 2000)]))
            } throws: { ($0 as? AMQPError)?.replyCode == 406 }

            await #expect {
                try await c.publish(AMQPMessage(exchange: "herald.no-such-exchange", routingKey: "x", body: []))
            } throws: { error in
                guard let e = error as? AMQPError else { return false }
                return e.code == .channelClosed && e.replyCode == 404 && e.message.contains("no-such-exchange")
            }
            // Both channels were reopened: the connection still publishes and declares.
            try await c.publish(message(1, to: queue))
            #expect(try await c.messageCount(queue: queue) == 1)
            try await c.deleteQueue(queue)
        }
    }

    @Test func consumingAMissingQueueFails() async throws {
        try await withConnection { c in
            await #expect {
                _ = try await c.consume(queue: TestEnvironment.uniqueName("missing"))
            } throws: { ($0 as? AMQPError)?.replyCode == 404 }
        }
    }

    @Test func unreachableBrokerIsReportedNotFatal() async throws {
        let c = AMQPConnection(configuration: try AMQPConfiguration(url: "amqp://guest:guest@127.0.0.1:1"), logger: TestEnvironment.logger("amqp"))
        await #expect {
            try await c.waitUntilConnected(timeout: .milliseconds(300))
        } throws: { error in
            guard let e = error as? AMQPError else { return false }
            return e.code == .connection && e.message.contains("127.0.0.1:1")
        }
        #expect(!c.isConnected)
        await c.close()
        await #expect { try await c.publish(message(1, to: "x")) } throws: { ($0 as? AMQPError)?.code == .closed }
    }

    /// With a 1 s heartbeat the broker closes a silent connection after about 2 s; an idle
    /// connection that stays open for 4 s is one that sends its heartbeats.
    @Test func idleConnectionStaysOpenThroughHeartbeats() async throws {
        try await withConnection(url: TestEnvironment.amqpURL + "?heartbeat=1") { c in
            let queue = TestEnvironment.uniqueName("heartbeat")
            try await c.declare(AMQPTopology(queues: [.init(queue, durable: false)]))
            try await Task.sleep(for: .seconds(4))
            #expect(c.isConnected)
            #expect(c.connectionCount == 1, "the connection was lost while idle")
            try await c.publish(message(1, to: queue))
            try await c.deleteQueue(queue)
        }
    }

    @Test func badLoginIsAConnectionError() async throws {
        let c = AMQPConnection(configuration: try AMQPConfiguration(url: "amqp://guest:wrong@127.0.0.1:5672"), logger: TestEnvironment.logger("amqp"))
        await #expect {
            try await c.waitUntilConnected(timeout: .seconds(3))
        } throws: { ($0 as? AMQPError)?.code == .connection }
        await c.close()
    }
}

@Suite("AMQP configuration")
struct AMQPConfigurationTests {
    @Test func parsesURIs() throws {
        let c = try AMQPConfiguration(url: "amqp://herald:s%40cret@mq.internal:5673/prod?heartbeat=10&confirm_window=50")
        #expect(c.host == "mq.internal" && c.port == 5673 && c.user == "herald" && c.password == "s@cret")
        #expect(c.virtualHost == "prod" && c.heartbeat == 10 && c.confirmWindow == 50)
        #expect(c.redactedURL == "amqp://herald@mq.internal:5673/prod")
        #expect(try AMQPConfiguration(url: "amqp://127.0.0.1").virtualHost == "/")
        #expect(try AMQPConfiguration(url: "amqp://127.0.0.1/%2F").virtualHost == "/")
    }

    @Test func rejectsBadURIsWithAReason() {
        for bad in ["http://x", "amqp://", "amqp://h/", "amqp://h?heartbeat=-1"] {
            #expect(throws: AMQPError.self, "\(bad)") { try AMQPConfiguration(url: bad) }
        }
    }
}
