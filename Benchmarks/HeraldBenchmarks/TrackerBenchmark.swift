import AMQP
import Contracts
import Foundation
import HeraldTesting
import Logging
import Tracking

/// Click redirects per second: `wrk` against the real `tracker` executable (signed click links,
/// each click recorded and published with confirms), beside nginx answering a static 302 on the
/// same machine in the same run; target 50% of nginx. Afterwards every click must be on the bus.
enum TrackerBenchmark {
    static func run(binaries: String, amqpURL: String, settingsURI: String, customersURI: String, seconds: Int, connections: Int) async throws -> [BenchmarkResult] {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let secret = "bench-tracking-secret-0123456789abcdefghij"
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-bench-tracker-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        // A queue of the benchmark's own collects what the tracker publishes.
        let amqp = AMQPConnection(configuration: try AMQPConfiguration(url: amqpURL, connectionName: "bench-tracker"), logger: logger)
        try await amqp.waitUntilConnected()
        let queue = "bench.clicks.\(UUID().uuidString.prefix(6).lowercased())"
        try await amqp.declare(AMQPTopology(exchanges: [.init(BusExchange.events, kind: .topic)], queues: [.init(queue, durable: true)],
                                            bindings: [.init(queue: queue, exchange: BusExchange.events, routingKey: "activity.#")]))

        // The tracker.
        let trackerPort = FreePort.next()
        let tracker = try ChildProcess(executable: "\(binaries)/tracker", arguments: ["--http-host", "127.0.0.1", "--http-port", String(trackerPort), "--log-level", "warning"],
                                       environment: ["HERALD_TRACKING_SECRET": secret, "HERALD_TRACKER_SPOOL_DIRECTORY": folder.appendingPathComponent("spool").path,
                                                     "HERALD_AMQP_URL": amqpURL, "HERALD_MONGO_SETTINGS_URI": settingsURI, "HERALD_MONGO_CUSTOMERS_URI": customersURI])
        defer { tracker.send(SIGTERM); _ = tracker.waitForExit() }
        let message = String(format: "%024x", Int.random(in: 1..<Int.max))
        let link = TrackingSigner(secret: secret).encode(TrackingToken(kind: .click, accountId: "0123456789abcdef01234567", databaseId: "89abcdef0123456789abcdef",
                                                                       messageId: message, profileId: "aaaaaaaaaaaaaaaaaaaaaaaa", linkIndex: 2,
                                                                       url: "https://shop.example/catalog/skis?utm_source=herald&utm_medium=email"))
        try await waitFor(port: trackerPort, process: tracker)

        // nginx answering the same redirect.
        let nginxPort = FreePort.next()
        let config = folder.appendingPathComponent("nginx.conf")
        try """
            worker_processes auto;
            pid \(folder.path)/nginx.pid;
            error_log \(folder.path)/nginx-error.log;
            events { worker_connections 1024; }
            http {
              access_log off;
              client_body_temp_path \(folder.path)/body; proxy_temp_path \(folder.path)/proxy; fastcgi_temp_path \(folder.path)/fastcgi;
              uwsgi_temp_path \(folder.path)/uwsgi; scgi_temp_path \(folder.path)/scgi;
              server { listen 127.0.0.1:\(nginxPort); location / { return 302 https://shop.example/catalog/skis?utm_source=herald&utm_medium=email; } }
            }
            """.write(to: config, atomically: true, encoding: .utf8)
        let nginx = try ChildProcess(executable: "/usr/sbin/nginx", arguments: ["-c", config.path, "-g", "daemon off;"])
        defer { nginx.send(SIGQUIT); _ = nginx.waitForExit() }
        try await waitFor(port: nginxPort, process: nginx)

        func wrk(_ url: String) async throws -> (rate: Double, requests: Int) {
            let run = try ChildProcess(executable: "/usr/bin/wrk", arguments: ["-t2", "-c\(connections)", "-d\(seconds)s", url])
            guard await run.waitForExit(timeout: .seconds(seconds + 30)) == 0 else { throw TestServerError(message: "wrk failed: \(run.output)") }
            let output = run.output
            guard output.contains(" 0 errors") || !output.contains("Non-2xx or 3xx responses") else { throw TestServerError(message: "wrk saw failed answers: \(output)") }
            let rate = output.split(separator: "\n").first { $0.hasPrefix("Requests/sec:") }.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
            let requests = output.split(separator: "\n").first { $0.contains("requests in") }.flatMap { Int($0.trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "") } ?? 0
            return (rate, requests)
        }
        _ = try await wrk("http://127.0.0.1:\(nginxPort)/c/warm")  // warm-up of both
        let reference = try await wrk("http://127.0.0.1:\(nginxPort)/c/\(link)")
        let herald = try await wrk("http://127.0.0.1:\(trackerPort)/c/\(link)")

        // Every click on the bus: count the clicks of this message in the benchmark's queue.
        let consumer = try await amqp.consume(queue: queue, prefetch: 500)
        var clicks = 0
        let deadline = ContinuousClock.now.advanced(by: .seconds(120))
        for try await delivery in consumer {
            delivery.ack()
            if let batch = try? Herald_Events_V1_ActivityBatch(serializedBytes: delivery.body) {
                clicks += batch.events.filter { $0.properties.fields["message"]?.stringValue == message }.count
            }
            if clicks >= herald.requests || ContinuousClock.now > deadline { break }
        }
        consumer.cancel()
        _ = try await amqp.deleteQueue(queue)
        await amqp.close()
        print("tracker.click queued: \(clicks) of \(herald.requests) clicks answered are on the bus\(clicks >= herald.requests ? "" : " — SOME MISSING")")
        guard clicks >= herald.requests else { throw TestServerError(message: "only \(clicks) of \(herald.requests) clicks reached the bus") }
        return [BenchmarkResult(name: "tracker.click redirects", unit: "req/s", herald: herald.rate, reference: reference.rate, referenceName: "nginx static 302",
                                minimumRatio: 0.5, absoluteTarget: nil)]
    }

    static func waitFor(port: Int, process: ChildProcess) async throws {
        for _ in 0..<200 {
            if FreePort.accepts(port) { return }
            if process.exitStatus != nil { throw TestServerError(message: "it stopped: \(process.output)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestServerError(message: "nothing answers on \(port): \(process.output)")
    }
}
