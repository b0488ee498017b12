import Contracts
import Foundation
import HeraldTesting
import MailSending
import Testing

/// Two mta-sender processes share a campaign of 20,000 messages; one is killed with SIGKILL in the
/// middle. Its unacknowledged deliveries go back to the broker and the other node delivers them:
/// every recipient gets the message. Duplicates (delivered by the dead node but never
/// acknowledged) are counted and reported.
@Suite("mta-sender failover", .serialized)
struct SenderFailoverTests {
    static var binDirectory: URL { URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent() }

    func launch(_ node: String, harness: SenderHarness, sink: SMTPSink) throws -> ChildProcess {
        let path = Self.binDirectory.appendingPathComponent("mta-sender").path
        guard FileManager.default.isExecutableFile(atPath: path) else { throw TestServerError(message: "\(path) is not built; run `swift build --build-tests`") }
        return try ChildProcess(executable: path, arguments: ["--http-host", "127.0.0.1", "--http-port", "\(FreePort.next())", "--log-level", "warning"], environment: [
            "HERALD_AMQP_URL": harness.vhost.url, "HERALD_MONGO_SETTINGS_URI": TestEnvironment.settingsMongoURI, "HERALD_MONGO_SETTINGS_DATABASE": harness.settings.name,
            "HERALD_MTA_NODE": node, "HERALD_MTA_DNS_SERVER": harness.dns.address, "HERALD_MTA_SMTP_PORT": "\(sink.port)", "HERALD_MTA_TLS": "disabled",
            "HERALD_MTA_PREFETCH": "500",
        ])
    }

    @Test("SIGKILL of one of two senders mid-campaign loses no recipient")
    func killOneSender() async throws {
        let count = 20_000
        let harness = try await SenderHarness(mx: [("many.test", "mx.many.test")])
        let sink = try await SMTPSink(keep: true, backlog: 1024)
        try await harness.save(DestinationRule(name: "Many", match: "many.test", maxConnections: 20, messagesPerConnection: 1000), in: DestinationRule.collectionName)
        var batch: [Herald_Delivery_V1_EmailDelivery] = []
        for n in 0..<count {
            batch.append(SenderHarness.delivery(to: "user\(n)@many.test", body: "<p>Message \(n)</p>"))
            if batch.count == 1000 {
                try await harness.publish(batch)
                batch.removeAll()
            }
        }
        let a = try launch("node-a", harness: harness, sink: sink)
        let b = try launch("node-b", harness: harness, sink: sink)
        // Node A dies without a word once a quarter of the messages are out.
        try await sink.waitForMessages(count / 4, timeout: .seconds(120))
        a.send(SIGKILL)
        #expect(await a.waitForExit(timeout: .seconds(10)) == 128 + SIGKILL)

        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(240))
        var received: [String] = []
        while clock.now < deadline {
            received = sink.recipients()
            if Set(received).count >= count { break }
            if let status = b.exitStatus { Issue.record("node B stopped (\(status)): \(b.output.suffix(1000))"); break }
            try await Task.sleep(for: .milliseconds(500))
        }
        let distinct = Set(received)
        #expect(distinct.count == count, "every recipient received the message: \(distinct.count) of \(count)")
        print("mta-sender failover: \(received.count) messages received for \(distinct.count) recipients; \(received.count - distinct.count) duplicates (delivered by the killed node, not acknowledged)")
        #expect(received.count - distinct.count <= 500, "at most one prefetch window of duplicates")
        #expect(try await harness.amqp.messageCount(queue: "delivery.email.bulk") == 0)
        b.send(SIGTERM)
        #expect(await b.waitForExit(timeout: .seconds(20)) == 0)
        await harness.finish()
    }
}
