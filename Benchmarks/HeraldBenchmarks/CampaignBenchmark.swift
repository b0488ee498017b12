import AMQP
import Audiences
import Campaigns
import Content
import Contracts
import CustomerData
import Foundation
import HeraldTesting
import Logging
import MailSending
import MIME
import Mongo
import ServiceSupport
import Tracking

/// End to end: a one-off campaign to a segment of `count` profiles — freeze, render (profile data,
/// tracked links, headers), queue with confirms, then the real `mta-sender` signs (DKIM
/// RSA-2048) and delivers to Postfix's smtp-sink — timed from the launch to the last delivery.
/// Also the latency of one triggered message from the call to its delivery on an idle system.
enum CampaignBenchmark {
    static func run(binaries: String, settingsURI: String, customersURI: String, count: Int) async throws -> [BenchmarkResult] {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let sink = try await SMTPSink(keep: false, backlog: 1024)
        let dns = try await DNSServer(mx: [("customers.test", "mx.customers.test", 10)], addresses: [("mx.customers.test", "127.0.0.1")])
        let (vhost, amqp, outcomes) = try await SenderBenchmark.bus("bench-campaign", logger: logger)
        let settingsClient = try MongoClient(uri: settingsURI, applicationName: "herald-bench", logger: logger)
        let customersClient = try MongoClient(uri: customersURI, applicationName: "herald-bench", logger: logger)
        let settingsName = "bench_campaign_\(UUID().uuidString.prefix(6).lowercased())"
        let settings = settingsClient.database(settingsName)
        let customers = customersClient.database("bench_campaign_\(UUID().uuidString.prefix(6).lowercased())")

        // The world: profiles with an e-mail subscription, a fixed segment of them all, a template, a signing key.
        let database = ProfileDatabase(accountId: "acc1", name: "Customers", fields: [FieldDefinition(key: "email", title: "E-mail", type: .email, unique: true),
                                                                                   FieldDefinition(key: "name", title: "Name", type: .string),
                                                                                   FieldDefinition(key: "city", title: "City", type: .string)])
        try await settings.collection("profile_databases", of: ProfileDatabase.self).insertOne(database)
        let segment = Segment(accountId: "acc1", databaseId: database._id, name: "Everyone", kind: .fixed, rule: nil)
        try await settings.collection(Segment.collectionName, of: Segment.self).insertOne(segment)
        var profiles: [CustomerData.Profile] = [], members: [SegmentMember] = []
        var firstProfile: CustomerData.Profile?
        for n in 0..<count {
            let address = "customer\(n)@customers.test"
            let profile = CustomerData.Profile(accountId: "acc1", databaseId: database._id, fields: ["email": .string(address), "name": .string("Customer \(n)"), "city": "Oslo"],
                                  subscriptions: [Subscription(channel: .email, address: address)])
            profiles.append(profile)
            if firstProfile == nil { firstProfile = profile }
            members.append(SegmentMember(segment: segment, profileId: profile._id))
            if profiles.count == 5000 {
                _ = try await customers.collection("profiles", of: CustomerData.Profile.self).insertMany(profiles, ordered: false)
                _ = try await customers.collection("segment_members", of: SegmentMember.self).insertMany(members, ordered: false)
                profiles.removeAll(); members.removeAll()
            }
        }
        if !profiles.isEmpty {
            _ = try await customers.collection("profiles", of: CustomerData.Profile.self).insertMany(profiles, ordered: false)
            _ = try await customers.collection("segment_members", of: SegmentMember.self).insertMany(members, ordered: false)
        }
        let html = "<html><body><h1>Hello {{ profile.name }}</h1>" + String(repeating: "<p>Skis, poles and boots from {{ profile.city }}: everything for the season.</p>\n", count: 60)
            + "<p><a href=\"https://shop.test/sale\">The sale</a> · <a href=\"{{ message.unsubscribe_url }}\">Unsubscribe</a></p></body></html>"
        let template = MessageTemplate(accountId: "acc1", name: "Sale", channel: .email, databaseId: database._id,
                                       content: MessageContent(subject: "Spring sale for {{ profile.name }}", fromName: "Shop", fromAddress: "news@shop.test", html: html), by: "bench")
        try await TemplateLibrary(settings: settings).templates.insertOne(template)
        let pem = try await DKIMVerifier.opensslKey(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
        try await settings.collection(SendingDomain.collectionName, of: SendingDomain.self)
            .insertOne(SendingDomain(domain: "shop.test", accountId: "acc1", selector: "bench", algorithm: .rsa2048, privateKey: pem, returnPathDomain: "bounces.shop.test"))
        try await settings.collection(DestinationRule.collectionName, of: DestinationRule.self)
            .insertOne(DestinationRule(name: "Bench", match: "*", maxConnections: 100, messagesPerConnection: 100_000))
        let store = CampaignStore(settings: settings, customers: customers)
        try await store.prepare()
        print("campaign: \(count) profiles in a segment, a \(html.utf8.count / 1024) KB template, DKIM RSA-2048")

        let sender = try ChildProcess(executable: "\(binaries)/mta-sender", arguments: ["--http-host", "127.0.0.1", "--http-port", "\(FreePort.next())", "--log-level", "warning"],
                                      environment: ["HERALD_AMQP_URL": vhost.url, "HERALD_MONGO_SETTINGS_URI": settingsURI, "HERALD_MONGO_SETTINGS_DATABASE": settingsName,
                                                    "HERALD_MTA_SMTP_PORT": "\(sink.port)", "HERALD_MTA_DNS_SERVER": dns.address, "HERALD_MTA_TLS": "disabled", "HERALD_MTA_NODE": "bench"])
        defer { sender.send(SIGKILL) }
        try await Task.sleep(for: .seconds(2))
        let runner = CampaignRunner(settings: settings, customers: customers, amqp: amqp, signer: TrackingSigner(secret: "bench-tracking-secret-0123456789abcdefghij"),
                                    trackerURL: "https://t.shop.test", logger: logger)
        let consumer = try await amqp.consume(queue: outcomes, prefetch: 2000)

        // A triggered message first, on the idle system, as the API sends it: rendered, published to
        // the transactional queue, signed and delivered — timed from the call to its delivery event.
        let triggered = Campaign(accountId: "acc1", name: "Order", kind: .triggered, databaseId: database._id, segmentId: nil, templateId: template._id, by: "bench")
        let library = TemplateLibrary(settings: settings)
        let composed = try await library.compose(template.content, channel: .email, account: "acc1")
        let builder = EmailBuilder(tracked: TrackedMessage(signer: TrackingSigner(secret: "bench-tracking-secret-0123456789abcdefghij"), base: "https://t.shop.test",
                                                           bounceDomain: "bounces.shop.test"), lookup: nil)
        let profile = try require(firstProfile)
        let address = profile.subscriptions[0].address
        let published = ContinuousClock.now
        let messageId = EmailBuilder.messageId(run: "latency", profile: profile._id)
        let delivery = try await builder.delivery(for: .init(profile: profile, address: address, resource: "", messageId: messageId, variant: ""),
                                                  message: composed, content: template.content, campaign: triggered, transactional: true)
        let record = SendRecord(id: messageId, accountId: "acc1", databaseId: database._id, profileId: profile._id, campaignId: triggered._id, runId: "latency",
                                variant: "", address: address, resource: "")
        _ = try await store.publishOnce([(record, delivery, nil)], amqp: amqp, transactional: true)
        var iterator = consumer.batches.makeAsyncIterator()
        _ = try await iterator.next()
        let latency = (ContinuousClock.now - published).seconds
        print("campaign: one triggered message delivered \(Int(latency * 1000)) ms after the call")

        // The campaign.
        let campaign = Campaign(accountId: "acc1", name: "Spring sale", kind: .oneOff, databaseId: database._id, segmentId: segment._id, templateId: template._id, by: "bench")
        try await store.campaigns.insertOne(campaign)
        let run = CampaignRun(campaign: campaign, number: 1, scheduledFor: Date())
        try await store.save(run)
        let started = ContinuousClock.now
        let expansion = Task { try await runner.run(runId: run._id) }
        var delivered = 0, other = 0
        while delivered + other < count, let batch = try await iterator.next() {
            for message in batch {
                let events = (try? Herald_Events_V1_MessageEventBatch(serializedBytes: message.body).events.count) ?? 0
                if message.routingKey == BusRoutingKey.message(.delivered) { delivered += events } else { other += events }
            }
            batch.last?.ack(multiple: true)
            if let status = sender.exitStatus { throw TestServerError(message: "mta-sender stopped (\(status))") }
        }
        let total = (ContinuousClock.now - started).seconds
        try await expansion.value
        let done = try require(try await store.runs.findOne(["_id": .string(run._id)]))
        let expanded = (done.finishedAt ?? Date()).timeIntervalSince(done.startedAt ?? Date())
        consumer.cancel()
        sender.send(SIGTERM)
        _ = await sender.waitForExit(timeout: .seconds(15))
        await amqp.close()
        await vhost.delete()
        await sink.stop()
        print("campaign: frozen, rendered and queued in \(String(format: "%.1f", expanded)) s (\(Int(Double(count) / max(expanded, 0.001)))/s); last delivery after \(String(format: "%.1f", total)) s; \(other) not delivered")
        guard other == 0 else { throw TestServerError(message: "\(other) of \(count) messages were not delivered") }
        return [
            BenchmarkResult(name: "campaign end to end", unit: "msg/s", herald: Double(count) / total, reference: 1000, referenceName: "DKIM target",
                            minimumRatio: nil, absoluteTarget: nil),
            BenchmarkResult(name: "one message, call to delivery", unit: "ms", herald: latency * 1000, reference: 1000, referenceName: "limit",
                            minimumRatio: nil, absoluteTarget: nil, absoluteMaximum: 1000),
        ]
    }
}

private func require<T>(_ value: T?) throws -> T {
    guard let value else { throw TestServerError(message: "missing") }
    return value
}
