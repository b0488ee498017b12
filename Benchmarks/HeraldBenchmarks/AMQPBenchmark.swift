import AMQP
import Foundation
import HeraldTesting
import Logging

/// Publish-with-confirms and consume through the Swift wrapper, against the C reference on the same broker.
enum AMQPBenchmark {
    static func run(reference: String, host: String, port: Int, count: Int, size: Int, window: Int, prefetch: Int) async throws -> [BenchmarkResult] {
        var bestSwift = (publish: 0.0, consume: 0.0), bestC = (publish: 0.0, consume: 0.0)
        // Consume rates swing between runs with the broker's paging of persistent messages, for
        // both clients alike: five alternating rounds, best of each.
        for round in 0..<5 {
            let c = try runReference(reference, host: host, port: port, queue: "bench.c.\(round).\(UUID().uuidString.prefix(6))",
                                     count: count, size: size, window: window, prefetch: prefetch)
            bestC = (max(bestC.publish, c.publish), max(bestC.consume, c.consume))
            let s = try await runSwift(host: host, port: port, queue: "bench.swift.\(round).\(UUID().uuidString.prefix(6))",
                                       count: count, size: size, window: window, prefetch: prefetch)
            bestSwift = (max(bestSwift.publish, s.publish), max(bestSwift.consume, s.consume))
        }
        return [
            BenchmarkResult(name: "amqp.publish+confirm", unit: "msg/s", herald: bestSwift.publish, reference: bestC.publish,
                            referenceName: "C librabbitmq", minimumRatio: 0.9),
            BenchmarkResult(name: "amqp.consume+ack", unit: "msg/s", herald: bestSwift.consume, reference: bestC.consume,
                            referenceName: "C librabbitmq", minimumRatio: 0.9),
        ]
    }

    static func runReference(_ path: String, host: String, port: Int, queue: String, count: Int, size: Int, window: Int, prefetch: Int) throws -> (publish: Double, consume: Double) {
        let p = try ChildProcess(executable: path, arguments: [host, String(port), queue, String(count), String(size), String(window), String(prefetch)])
        guard p.waitForExit() == 0 else { throw TestServerError(message: "amqp_reference failed: \(p.output)") }
        let rates = parseRates(p.output)
        return (rates["publish_per_s"] ?? 0, rates["consume_per_s"] ?? 0)
    }

    static func runSwift(host: String, port: Int, queue: String, count: Int, size: Int, window: Int, prefetch: Int) async throws -> (publish: Double, consume: Double) {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let connection = AMQPConnection(configuration: AMQPConfiguration(host: host, port: port, confirmWindow: window), logger: logger)
        try await connection.waitUntilConnected()
        try await connection.declare(AMQPTopology(queues: [.init(queue)]))
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        let messages = (0..<count).map { AMQPMessage(exchange: "", routingKey: queue, body: body, messageId: String($0)) }
        let publishTime = try await measure { try await connection.publish(contentsOf: messages) }
        let consumer = try await connection.consume(queue: queue, prefetch: UInt16(prefetch))
        var received = 0
        let consumeTime = try await measure {
            for try await delivery in consumer {
                delivery.ack()
                received += 1
                if received == count { break }
            }
        }
        consumer.cancel()
        try await connection.deleteQueue(queue)
        await connection.close()
        return (Double(count) / publishTime, Double(count) / consumeTime)
    }
}
