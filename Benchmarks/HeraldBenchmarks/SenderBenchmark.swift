import AMQP
import Contracts
import Foundation
import HeraldTesting
import Logging
import MailSending
import MIME
import Mongo
import ServiceSupport
import SwiftProtobuf

/// mta-sender's efficiency: pre-rendered ~10 KB messages waiting in RabbitMQ, delivered by the
/// real `mta-sender` executable over 100 connections to Postfix's `smtp-sink` on loopback, beside
/// Postfix's `smtp-source -d -s 100` sending messages of the same size to the same sink in the
/// same run (target 50%). Then the same with DKIM RSA-2048 (target 1,000 messages/s), with
/// signing's share of the sender's CPU time; and the sender's peak RSS (under 300 MB).
enum SenderBenchmark {
    static func run(binaries: String, amqpURL: String, settingsURI: String, count: Int, signedCount: Int) async throws -> [BenchmarkResult] {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let sink = try await SMTPSink(keep: false, backlog: 1024)
        let dns = try await DNSServer(mx: [("bench.test", "mx.bench.test", 10)], addresses: [("mx.bench.test", "127.0.0.1")])

        // The reference: smtp-source, 100 sessions, messages of 10 KB, several per connection.
        let referenceCount = min(count, 50_000)
        let started = ContinuousClock.now
        let source = try ChildProcess(executable: "/usr/sbin/smtp-source", arguments: [
            "-d", "-s", "100", "-l", "10240", "-m", "\(referenceCount)", "-f", "news@shop.test", "-t", "anna@bench.test", "127.0.0.1:\(sink.port)",
        ])
        guard await source.waitForExit(timeout: .seconds(600)) == 0 else { throw TestServerError(message: "smtp-source failed: \(source.output)") }
        let referenceRate = Double(referenceCount) / (ContinuousClock.now - started).seconds
        print("sender reference: smtp-source sent \(referenceCount) messages of 10 KB at \(Int(referenceRate))/s")

        var results: [BenchmarkResult] = []
        let plain = try await deliver(count: count, dkim: false, binaries: binaries, amqpURL: amqpURL, settingsURI: settingsURI, sink: sink, dns: dns, logger: logger)
        results.append(BenchmarkResult(name: "sender, no DKIM", unit: "msg/s", herald: plain.rate, reference: referenceRate,
                                       referenceName: "smtp-source -d -s 100", minimumRatio: 0.5, absoluteTarget: nil))
        results.append(BenchmarkResult(name: "sender peak RSS", unit: "MB", herald: plain.peakMB, reference: 300, referenceName: "limit",
                                       minimumRatio: nil, absoluteTarget: nil, absoluteMaximum: 300))

        let signed = try await deliver(count: signedCount, dkim: true, binaries: binaries, amqpURL: amqpURL, settingsURI: settingsURI, sink: sink, dns: dns, logger: logger)
        print("sender dkim: signing took about \(Int(signed.signingShare * 100))% of mta-sender's CPU time (\(String(format: "%.2f", signed.cpuSeconds)) s of CPU for \(signedCount) messages)")
        results.append(BenchmarkResult(name: "sender, DKIM RSA-2048", unit: "msg/s", herald: signed.rate, reference: 1000,
                                       referenceName: "target", minimumRatio: nil, absoluteTarget: 1000))
        await sink.stop()
        return results
    }

    struct Run {
        var rate: Double
        var peakMB: Double
        var cpuSeconds: Double
        var signingShare: Double
    }

    static func deliver(count: Int, dkim: Bool, binaries: String, amqpURL: String, settingsURI: String, sink: SMTPSink, dns: DNSServer, logger: Logger) async throws -> Run {
        // A virtual host and settings database of the run's own.
        let (vhost, amqp, outcomes) = try await bus("bench-sender", logger: logger)
        let mongo = try MongoClient(uri: settingsURI, applicationName: "herald-bench", logger: logger)
        let databaseName = "bench_sender_\(UUID().uuidString.prefix(6).lowercased())"
        let settings = mongo.database(databaseName)
        try await settings.collection(DestinationRule.collectionName, of: DestinationRule.self)
            .insertOne(DestinationRule(name: "Bench", match: "*", maxConnections: 100, messagesPerConnection: 100_000))
        var signingSeconds = 0.0
        if dkim {
            let pem = try await DKIMVerifier.opensslKey(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
            let domain = SendingDomain(domain: "shop.test", accountId: "acc1", selector: "bench", algorithm: .rsa2048, privateKey: pem, returnPathDomain: "bounce.shop.test")
            try await settings.collection(SendingDomain.collectionName, of: SendingDomain.self).insertOne(domain)
            // The cost of one signature here, on one core, for signing's share of the sender's CPU.
            let signer = try domain.signer()
            let sample = message(0)
            let clock = ContinuousClock.now
            for _ in 0..<200 { _ = try signer.sign([UInt8](sample.mime)) }
            signingSeconds = (ContinuousClock.now - clock).seconds / 200
        }

        // Fill the bulk queue.
        var batch: [AMQPMessage] = []
        for n in 0..<count {
            let d = message(n)
            batch.append(AMQPMessage(exchange: BusExchange.delivery, routingKey: BusRoutingKey.bulkEmail, body: try d.serializedBytes(),
                                     messageId: d.meta.eventID, type: "herald.delivery.v1.EmailDelivery"))
            if batch.count == 1000 {
                try await amqp.publish(contentsOf: batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        try await amqp.publish(contentsOf: batch)
        print("sender\(dkim ? " dkim" : ""): \(count) messages of about \(message(0).mime.count / 1024) KB waiting in delivery.email.bulk")

        let sender = try ChildProcess(executable: "\(binaries)/mta-sender", arguments: ["--http-host", "127.0.0.1", "--http-port", "\(FreePort.next())", "--log-level", "warning"],
                                      environment: ["HERALD_AMQP_URL": vhost.url, "HERALD_MONGO_SETTINGS_URI": settingsURI, "HERALD_MONGO_SETTINGS_DATABASE": databaseName,
                                                    "HERALD_MTA_SMTP_PORT": "\(sink.port)", "HERALD_MTA_DNS_SERVER": dns.address, "HERALD_MTA_TLS": "disabled",
                                                    "HERALD_MTA_NODE": "bench"])
        defer { sender.send(SIGKILL) }
        let consumer = try await amqp.consume(queue: outcomes, prefetch: 2000)
        var delivered = 0, other = 0
        var first: ContinuousClock.Instant?
        var peak = 0
        var cpuAtFirst = 0.0
        for try await batch in consumer.batches {
            if first == nil {
                first = .now
                cpuAtFirst = ProcessMemory.cpuSeconds(of: sender.pid)
            }
            for message in batch {
                let events = (try? Herald_Events_V1_MessageEventBatch(serializedBytes: message.body).events.count) ?? 0
                if message.routingKey == BusRoutingKey.message(.delivered) { delivered += events } else { other += events }
            }
            batch.last?.ack(multiple: true)
            peak = max(peak, ProcessMemory.peakResidentBytes(of: sender.pid))
            if delivered + other >= count { break }
            if let status = sender.exitStatus { throw TestServerError(message: "mta-sender stopped (\(status)): \(sender.output.suffix(2000))") }
        }
        let seconds = (ContinuousClock.now - first!).seconds
        let cpu = ProcessMemory.cpuSeconds(of: sender.pid) - cpuAtFirst
        peak = max(peak, ProcessMemory.peakResidentBytes(of: sender.pid))
        consumer.cancel()
        sender.send(SIGTERM)
        _ = await sender.waitForExit(timeout: .seconds(15))
        await amqp.close()
        await vhost.delete()
        guard other == 0 else { throw TestServerError(message: "\(other) of \(count) messages were not delivered: \(sender.output.suffix(2000))") }
        let rate = Double(delivered - 1) / seconds
        return Run(rate: rate, peakMB: Double(peak) / 1_048_576, cpuSeconds: cpu, signingShare: cpu > 0 ? min(1, Double(count) * signingSeconds / cpu) : 0)
    }

    /// A broker virtual host of the run's own with the email queues, and a queue that collects every outcome.
    static func bus(_ name: String, logger: Logger) async throws -> (TestVirtualHost, AMQPConnection, String) {
        let vhost = try await TestVirtualHost.make()
        let amqp = AMQPConnection(configuration: try AMQPConfiguration(url: vhost.url, connectionName: name), logger: logger)
        try await amqp.waitUntilConnected()
        let outcomes = "bench.outcomes"
        try await amqp.declare(BusTopology.exchanges.merging(BusTopology.emailQueues).merging(AMQPTopology(
            queues: [.init(outcomes)], bindings: [.init(queue: outcomes, exchange: BusExchange.events, routingKey: "message.#")])))
        return (vhost, amqp, outcomes)
    }

    /// A pre-rendered ~10 KB campaign message to one recipient at bench.test.
    static func message(_ n: Int) -> Herald_Delivery_V1_EmailDelivery {
        var d = Herald_Delivery_V1_EmailDelivery()
        d.meta = .new(account: "acc1", producer: "bench")
        d.profile.databaseID = "db1"
        d.profile.profileID = "p\(n)"
        d.messageID = String(format: "%024x", n)
        d.campaignID = "bench"
        d.senderID = "shop.test"
        d.mailFrom = "bounces+\(d.messageID)@bounce.shop.test"
        d.recipient = "user\(n)@bench.test"
        d.mime = Data(MailMessage(from: MailAddress("news@shop.test", name: "Shop"), to: [MailAddress(d.recipient)], subject: "Spring sale \(n)",
                                  html: body, messageID: "\(d.messageID)@shop.test", unsubscribeURL: "https://t.shop.test/u/\(d.messageID)").rendered())
        return d
    }

    static let body: String = {
        let row = "<tr><td style=\"padding:8px;font-family:Arial\">Skis, poles and boots: everything for the season at spring prices.</td></tr>\n"
        return "<html><body><table>" + String(repeating: row, count: 85) + "</table></body></html>"
    }()
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
