import AMQP
import Contracts
import Foundation
import HeraldTesting
import Logging
import MailSending
import MIME
import Mongo
import ServiceLifecycle
import ServiceSupport
import SwiftProtobuf
import Synchronization
import Testing

/// Real peers for one sender test: a RabbitMQ virtual host of its own (so that its email queues
/// are its own), a fresh settings database, dnsmasq with the test's MX records, and the SMTP
/// server(s) the records point to. It publishes deliveries as job-server does, runs MailSender
/// nodes in-process, and reads the `message.*` outcomes from a queue of its own.
final class SenderHarness: @unchecked Sendable {
    let vhost: TestVirtualHost
    let amqp: AMQPConnection
    let mongo: MongoClient
    let settings: MongoDatabase
    let dns: DNSServer
    let outcomes = "test.outcomes"
    private let received = Mutex<[Herald_Events_V1_MessageEvent]>([])
    private var collector: Task<Void, any Error>?
    private var nodes: [(group: ServiceGroup, task: Task<Void, any Error>, amqp: AMQPConnection)] = []

    /// - Parameter mx: (domain, MX host) pairs; every MX host is 127.0.0.1.
    init(mx: [(String, String)]) async throws {
        vhost = try await TestVirtualHost.make()
        amqp = AMQPConnection(configuration: try AMQPConfiguration(url: vhost.url, connectionName: "sender-test"), logger: TestEnvironment.logger("amqp"))
        try await amqp.waitUntilConnected()
        try await amqp.declare(BusTopology.exchanges.merging(BusTopology.emailQueues).merging(AMQPTopology(
            queues: [.init(outcomes)], bindings: [.init(queue: outcomes, exchange: BusExchange.events, routingKey: "message.#")])))
        mongo = try MongoClient(uri: TestEnvironment.settingsMongoURI, applicationName: "herald-tests", logger: TestEnvironment.logger("mongo"))
        settings = mongo.database(TestEnvironment.uniqueName("sender"))
        dns = try await DNSServer(mx: mx.map { ($0.0, $0.1, 10) }, addresses: Set(mx.map(\.1)).map { ($0, "127.0.0.1") })
    }

    func configuration(port: Int, node: String = "node-a") -> MailSenderConfiguration {
        MailSenderConfiguration(node: node, heloName: "sender.herald.test", smtpPort: port, dnsServer: dns.address, prefetch: 500,
                                refreshInterval: .milliseconds(300))
    }

    /// Starts a sender node in this process.
    func startNode(_ configuration: MailSenderConfiguration) async throws {
        let connection = AMQPConnection(configuration: try AMQPConfiguration(url: vhost.url, connectionName: configuration.node), logger: TestEnvironment.logger("amqp"))
        try await connection.waitUntilConnected()
        let sender = MailSender(configuration: configuration, amqp: connection, settings: settings, logger: TestEnvironment.logger("mta-sender"))
        let group = ServiceGroup(configuration: .init(services: [sender], logger: TestEnvironment.logger("mta-sender")))
        nodes.append((group, Task { try await group.run() }, connection))
    }

    func save<T: Codable & Sendable>(_ document: T, in collection: String) async throws {
        try await settings.collection(collection, of: T.self).insertOne(document)
    }

    /// An EmailDelivery as job-server makes them: a signed-later MIME message to `recipient`.
    static func delivery(to recipient: String, campaign: String = "c1", sender: String = "shop.test", subject: String = "Spring sale",
                         body: String = "<p>Hello</p>") -> Herald_Delivery_V1_EmailDelivery {
        var d = Herald_Delivery_V1_EmailDelivery()
        d.meta = .new(account: "acc1", producer: "test")
        d.profile.databaseID = "db1"
        d.profile.profileID = "p-" + recipient
        d.messageID = UUID().uuidString.lowercased()
        d.campaignID = campaign
        d.senderID = sender
        d.mailFrom = "bounces+\(d.messageID)@bounce.\(sender)"
        d.recipient = recipient
        d.mime = Data(MailMessage(from: MailAddress("news@\(sender)", name: "Shop"), to: [MailAddress(recipient)], subject: subject, html: body,
                                  messageID: "\(d.messageID)@\(sender)", unsubscribeURL: "https://t.\(sender)/u/x").rendered())
        return d
    }

    func publish(_ deliveries: [Herald_Delivery_V1_EmailDelivery], transactional: Bool = false) async throws {
        try await amqp.publish(contentsOf: deliveries.map {
            AMQPMessage(exchange: BusExchange.delivery, routingKey: transactional ? BusRoutingKey.transactionalEmail : BusRoutingKey.bulkEmail,
                        body: try! $0.serializedBytes(), messageId: $0.meta.eventID, type: "herald.delivery.v1.EmailDelivery")
        })
    }

    /// Waits until `count` more outcomes arrived than were taken before, and takes them.
    func outcomes(_ count: Int, timeout: Duration = .seconds(60)) async throws -> [Herald_Events_V1_MessageEvent] {
        if collector == nil {
            let consumer = try await amqp.consume(queue: outcomes, prefetch: 1000)
            collector = Task { [self] in
                for try await delivery in consumer {
                    delivery.ack()
                    let events: [Herald_Events_V1_MessageEvent] = if delivery.properties.type == "herald.events.v1.MessageEventBatch" {
                        (try? Herald_Events_V1_MessageEventBatch(serializedBytes: delivery.body).events) ?? []
                    } else {
                        (try? Herald_Events_V1_MessageEvent(serializedBytes: delivery.body)).map { [$0] } ?? []
                    }
                    self.received.withLock { $0 += events }
                }
            }
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            let taken = received.withLock { events -> [Herald_Events_V1_MessageEvent]? in
                guard events.count >= count else { return nil }
                defer { events.removeFirst(count) }
                return Array(events.prefix(count))
            }
            if let taken { return taken }
            try await Task.sleep(for: .milliseconds(50))
        }
        let got = received.withLock { $0.map { "\($0.kind) \($0.recipient) \($0.reply)" } }
        throw TestServerError(message: "\(got.count) of \(count) outcomes in time: \(got)")
    }

    /// Outcomes that arrived and were not taken yet.
    var pendingOutcomes: [Herald_Events_V1_MessageEvent] { received.withLock { $0 } }

    /// The number of messages in `queue` once it is `expected`, or what it is after 10 seconds.
    func waitForCount(of queue: String, _ expected: Int) async throws -> Int {
        var count = 0
        for _ in 0..<100 {
            count = try await amqp.messageCount(queue: queue)
            if count == expected { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return count
    }

    /// Stops every node gracefully (or, with `kill`, the first one abruptly), then cleans up.
    func finish() async {
        for node in nodes {
            await node.group.triggerGracefulShutdown()
            _ = try? await node.task.value
            await node.amqp.close()
        }
        nodes.removeAll()
        collector?.cancel()
        await amqp.close()
        await vhost.delete()
    }
}
