import AMQP
import Audiences
import BSON
import Campaigns
import Content
import Contracts
import CustomerData
import DataJobs
import Foundation
import HeraldTesting
import MailSending
import Mongo
import ServiceLifecycle
import ServiceSupport
import SwiftProtobuf
import Testing
import Tracking

/// Campaigns end to end through real servers: job-server's runner, scheduler and outcome writer
/// in-process, a MailSender node, RabbitMQ (a vhost of the test's own), both stores, dnsmasq and
/// aiosmtpd as the recipients' MX.
@Suite("Campaigns", .serialized)
struct CampaignTests {
    /// A profile database with five people, a fixed segment of them all, an email template.
    final class World: @unchecked Sendable {
        let harness: SenderHarness
        let sink: AIOSMTPServer
        let customers: MongoDatabase
        let database: ProfileDatabase
        var profiles: [String: Profile] = [:]
        let segment: Segment
        let template: MessageTemplate
        let store: CampaignStore
        let runner: CampaignRunner
        let scheduler: CampaignScheduler
        let signer = TrackingSigner(secret: "campaign-tests-tracking-secret-0123456789")
        private var jobs: (group: ServiceGroup, task: Task<Void, any Error>)?

        /// - Parameter extra: more active subscribers beside the five (`p0@example.test`…).
        init(sinkRules: [AIOSMTPServer.Rule] = [], batchSize: Int = 2, extra: Int = 0) async throws {
            harness = try await SenderHarness(mx: [("example.test", "mx.example.test"), ("observer.test", "mx.example.test")])
            sink = try await AIOSMTPServer(rules: sinkRules)
            customers = harness.mongo.database(TestEnvironment.uniqueName("customers"))
            database = ProfileDatabase(accountId: "acc1", name: "Shop", fields: [FieldDefinition(key: "email", title: "E-mail", type: .email, unique: true),
                                                                                 FieldDefinition(key: "name", title: "Name", type: .string)])
            try await harness.save(database, in: "profile_databases")
            let people: [(String, Subscription.Status)] = [("anna", .active), ("boris", .active), ("vera", .active), ("dima", .unsubscribed), ("eva", .active)]
                + (0..<extra).map { ("p\($0)", .active) }
            segment = Segment(accountId: "acc1", databaseId: database._id, name: "Everyone", kind: .fixed, rule: nil)
            try await harness.save(segment, in: Segment.collectionName)
            for (name, status) in people {
                let profile = Profile(accountId: "acc1", databaseId: database._id, fields: ["email": .string("\(name)@example.test"), "name": .string(name.capitalized)],
                                      subscriptions: [Subscription(channel: .email, address: "\(name)@example.test", status: status, resource: "news")])
                try await customers.collection("profiles", of: Profile.self).insertOne(profile)
                try await customers.collection("segment_members", of: SegmentMember.self).insertOne(SegmentMember(segment: segment, profileId: profile._id))
                profiles[name] = profile
            }
            try await harness.save(StopListEntry(accountId: "acc1", kind: .address, value: "eva@example.test", reason: "complaint", source: .manual, by: "test"),
                                   in: StopListEntry.collectionName)
            template = MessageTemplate(accountId: "acc1", name: "Sale", channel: .email, databaseId: database._id, content: MessageContent(
                subject: "Hello {{ profile.name }}", fromName: "Shop", fromAddress: "news@shop.test",
                html: "<html><body><p>Hi {{ profile.name }}, see <a href=\"https://shop.test/sale\">the sale</a>.</p><a href=\"{{ message.unsubscribe_url }}\">Unsubscribe</a> <a href=\"{{ message.web_version_url }}\">View in a browser</a></body></html>"), by: "test")
            try await harness.save(template, in: "message_templates")
            store = CampaignStore(settings: harness.settings, customers: customers)
            try await store.prepare()
            runner = CampaignRunner(settings: harness.settings, customers: customers, amqp: harness.amqp, signer: signer,
                                    trackerURL: "https://t.shop.test", logger: TestEnvironment.logger("campaigns"), batchSize: batchSize)
            scheduler = CampaignScheduler(store: store, amqp: harness.amqp, logger: TestEnvironment.logger("campaigns"))
            try await harness.amqp.declare(BusTopology.jobQueues.merging(BusTopology.messageEventsQueue).merging(BusTopology.activityQueue))
        }

        /// job-server's campaign parts and one sender node.
        func start() async throws {
            let logger = TestEnvironment.logger("job-server")
            let databases = harness.settings.collection("profile_databases", of: ProfileDatabase.self)
            let activity = ActivityWriter(amqp: harness.amqp, databases: databases, writer: ProfileWriter(store: ProfileStore(database: customers)), logger: logger)
            let runner = self.runner
            let group = ServiceGroup(configuration: .init(services: [
                JobRequestConsumer(amqp: harness.amqp, queue: "jobs.campaign.launch", logger: logger, run: { try await runner.run(runId: $0) }),
                MessageOutcomeWriter(amqp: harness.amqp, sends: store.sends, activity: activity, logger: logger),
            ], logger: logger))
            jobs = (group, Task { try await group.run() })
            try await harness.startNode(harness.configuration(port: sink.port))
        }

        func campaign(_ name: String = "Spring sale", configure: (inout Campaign) -> Void = { _ in }) async throws -> Campaign {
            var campaign = Campaign(accountId: "acc1", name: name, kind: .oneOff, databaseId: database._id, segmentId: segment._id, templateId: template._id, by: "test")
            campaign.resource = "news"
            configure(&campaign)
            try await store.campaigns.insertOne(campaign)
            return campaign
        }

        /// Starts a run now, as the panel's "Send now" does.
        func launch(_ campaign: Campaign) async throws -> CampaignRun {
            let run = CampaignRun(campaign: campaign, number: try await store.runs.countDocuments(["campaignId": .string(campaign._id)]) + 1, scheduledFor: Date())
            try await store.save(run)
            try await CampaignLaunch.publish(run, amqp: harness.amqp)
            return run
        }

        func waitForRun(_ id: String, status: CampaignRun.Status = .sent) async throws -> CampaignRun {
            for _ in 0..<400 {
                if let run = try await store.runs.findOne(["_id": .string(id)]), run.status == status { return run }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw TestServerError(message: "run \(id) is \(String(describing: try await store.runs.findOne(["_id": .string(id)])?.status)), not \(status)")
        }

        func sends(_ run: String) async throws -> [SendRecord] {
            try await store.sends.find(["runId": .string(run)]).collect()
        }

        func finish() async {
            await jobs?.group.triggerGracefulShutdown()
            _ = try? await jobs?.task.value
            await harness.finish()
        }
    }

    @Test("a one-off campaign reaches its active subscribers and its observer, with skips counted, tracked links and one-click unsubscribe")
    func oneOff() async throws {
        let world = try await World()
        try await world.start()
        let campaign = try await world.campaign { $0.observers = ["seed@observer.test"] }
        let run = try await world.waitForRun(try await world.launch(campaign)._id)
        #expect(run.total == 5)
        #expect(run.queued == 3)
        #expect(run.skipped == ["unsubscribed": 1, "stop list": 1])
        #expect(run.templateVersion == 1)

        let received = try await world.sink.waitForMessages(4)
        #expect(Set(received.flatMap(\.recipients)) == ["anna@example.test", "boris@example.test", "vera@example.test", "seed@observer.test"])
        let anna = try #require(received.first { $0.recipients == ["anna@example.test"] }).text
        #expect(anna.contains("Subject: Hello Anna"))
        #expect(anna.contains("https://t.shop.test/c/"), "links are tracked")
        #expect(!anna.contains("href=3D\"https://shop.test/sale\""), "no untracked link is left")
        #expect(anna.contains("List-Unsubscribe: <https://t.shop.test/u/") && anna.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"))
        #expect(anna.contains("Feedback-ID: \(campaign._id.prefix(20)):acc1:herald"))
        #expect(received.allSatisfy { $0.mailFrom.hasPrefix("bounces+") && $0.mailFrom.hasSuffix("@bounces.shop.test") })

        // The outcome writer brings the send log up to date, and the timeline shows the delivery.
        var records: [SendRecord] = []
        for _ in 0..<200 {
            records = try await world.sends(run._id)
            if records.filter({ $0.status == .delivered }).count == 4 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(records.filter { $0.status == .delivered }.count == 4)
        #expect(records.filter(\.observer).map(\.address) == ["seed@observer.test"])
        let timeline = try await ProfileStore(database: world.customers).timeline(of: world.profiles["anna"]!)
        #expect(timeline.contains { $0.kind == "message.delivered" && $0.properties["campaign"] == .string(campaign._id) })

        // The web version: the link in the message leads to the same message, rendered again, without an open pixel.
        #expect(anna.contains("https://t.shop.test/w/"))
        let annaRecord = try #require(records.first { $0.address == "anna@example.test" })
        let web = WebVersion(settings: world.harness.settings, customers: world.customers, signer: world.signer, trackerURL: "https://t.shop.test")
        let token = try #require(try? world.signer.decode(TrackedMessage(signer: world.signer, base: "https://t.shop.test", bounceDomain: "")
            .webVersionURL(for: .init(accountId: "acc1", databaseId: world.database._id, messageId: annaRecord._id, profileId: annaRecord.profileId,
                                      address: annaRecord.address, resource: "news")).components(separatedBy: "/w/")[1]))
        let page = try #require(try await web.html(for: token))
        #expect(page.contains("Hi Anna, see") && page.contains("https://t.shop.test/c/") && !page.contains("/o/"))
        var forged = token
        forged.messageId = "ffffffffffffffffffffffff"
        #expect(try await web.html(for: forged) == nil, "a message that is not in the send log has no web version")
        await world.finish()
    }

    @Test("a hard bounce marks the subscription bounced and stop-lists the address; the next campaign skips it")
    func bounceThenSkip() async throws {
        let world = try await World(sinkRules: [.init(pattern: "boris@*", reply: "550 5.1.1 <boris@example.test>: user unknown")])
        try await world.start()
        let first = try await world.waitForRun(try await world.launch(try await world.campaign())._id)
        #expect(first.queued == 3)
        // job-server's outcome writer: Boris's subscription becomes bounced and his address goes on the stop list.
        var status: Subscription.Status?
        for _ in 0..<200 {
            status = try await ProfileStore(database: world.customers).profile(world.profiles["boris"]!._id, in: world.database)?.subscriptions.first?.status
            if status == .bounced { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(status == .bounced)
        #expect(try await StopList(settings: world.harness.settings).blocking("boris@example.test", channel: .email, account: "acc1")?.source == .bounce)

        let second = try await world.waitForRun(try await world.launch(try await world.campaign("Second"))._id)
        #expect(second.queued == 2)
        #expect(second.skipped["bounced"] == 1)
        #expect(try await world.sends(second._id).allSatisfy { $0.address != "boris@example.test" })
        await world.finish()
    }

    @Test("an event sends a triggered campaign's message to its profile with the event's data, once however often it is delivered")
    func eventTriggered() async throws {
        let world = try await World()
        try await world.start()
        let paidTemplate = MessageTemplate(accountId: "acc1", name: "Paid", channel: .email, databaseId: world.database._id, content: MessageContent(
            subject: "Order {{ order.number }} is paid", fromName: "Shop", fromAddress: "news@shop.test", html: "<p>Thanks, {{ profile.name }}.</p>"), by: "test")
        try await world.harness.save(paidTemplate, in: "message_templates")
        let campaign = try await world.campaign("Order paid") {
            $0.kind = .triggered
            $0.segmentId = nil
            $0.status = .active
            $0.templateId = paidTemplate._id
            $0.triggerEvent = "order.paid"
        }
        let logger = TestEnvironment.logger("job-server")
        let triggers = CampaignTriggers(store: world.store, sender: TriggeredSend(store: world.store, library: TemplateLibrary(settings: world.harness.settings),
                                                                                  amqp: world.harness.amqp, signer: world.signer, trackerURL: "https://t.shop.test"),
                                        profiles: ProfileStore(database: world.customers), logger: logger)
        let writer = ActivityWriter(amqp: world.harness.amqp, databases: world.harness.settings.collection("profile_databases", of: ProfileDatabase.self),
                                    writer: ProfileWriter(store: ProfileStore(database: world.customers)), listener: { await triggers.handle($0) }, logger: logger)
        func event(_ kind: String, _ person: String) -> Herald_Events_V1_ActivityEvent {
            var event = Herald_Events_V1_ActivityEvent()
            event.meta = .new(account: "acc1", producer: "test")
            event.databaseID = world.database._id
            event.kind = kind
            event.source = "api"
            event.profileID = world.profiles[person]!._id
            event.properties = Google_Protobuf_Struct(fields: ["order": Google_Protobuf_Value(structValue: Google_Protobuf_Struct(fields: ["number": Google_Protobuf_Value(stringValue: "A-7")]))])
            return event
        }
        let paid = event("order.paid", "anna")
        try await writer.write([paid, event("order.created", "boris")])
        try await writer.write([paid])  // the same event delivered again
        let received = try await world.sink.waitForMessages(1)
        let outcomes = try await world.harness.outcomes(1)
        #expect(outcomes.first?.kind == .delivered && received.count == 1)
        #expect(received.first?.recipients == ["anna@example.test"] && received.first?.text.contains("Subject: Order A-7 is paid") == true)
        #expect(try await world.store.sends.countDocuments(["campaignId": .string(campaign._id)]) == 1, "one message for the event however often it came")
        await world.finish()
    }

    @Test("an A/B test by conversions: each variant's recipients whose profile recorded the event after their message, once each")
    func conversions() async throws {
        let world = try await World()
        let sentAt = Date(timeIntervalSince1970: 1_795_000_000)
        let groups = [("anna", "A"), ("boris", "A"), ("vera", "B"), ("eva", "B")]
        for (name, variant) in groups {
            var record = SendRecord(id: EmailBuilder.messageId(run: "r1", profile: world.profiles[name]!._id), accountId: "acc1", databaseId: world.database._id,
                                    profileId: world.profiles[name]!._id, campaignId: "c1", runId: "r1", variant: variant, address: "\(name)@example.test", resource: "news")
            record.status = .delivered
            record.createdAt = sentAt
            try await world.store.sends.insertOne(record)
        }
        func paid(_ name: String, _ offset: Double, kind: String = "order.paid") -> ActivityEvent {
            ActivityEvent(accountId: "acc1", databaseId: world.database._id, profileId: world.profiles[name]!._id, at: sentAt.addingTimeInterval(offset), kind: kind, source: "api")
        }
        try await ProfileStore(database: world.customers).record([
            paid("anna", 600),                      // A: converts
            paid("boris", -600),                    // A: paid before the message — not a conversion
            paid("vera", 60), paid("vera", 120),    // B: converts once
            paid("eva", 30, kind: "order.created"), // B: another kind
            paid("eva", 90),                        // B: converts
        ])
        let results = try await CampaignResults(store: world.store).variants(of: "r1", conversionEvent: "order.paid")
        #expect(results.map(\.variant) == ["A", "B"] && results.map(\.sent) == [2, 2] && results.map(\.converted) == [1, 2])
        #expect(SplitTest.winner(of: results, by: .conversions) == "B")
        #expect(SplitTest.winner(of: results, by: .opens) == "A", "no opens: the first on a tie")
        #expect(try await CampaignResults(store: world.store).variants(of: "r1").map(\.converted) == [0, 0], "without a conversion event nothing is counted")
        await world.finish()
    }

    @Test("expanding a run again publishes nothing twice")
    func expandingAgainDoublesNothing() async throws {
        let world = try await World()
        let campaign = try await world.campaign()
        var run = CampaignRun(campaign: campaign, number: 1, scheduledFor: Date())
        try await world.store.save(run)
        try await world.runner.run(runId: run._id)
        run = try #require(try await world.store.runs.findOne(["_id": .string(run._id)]))
        #expect(run.status == .sent && run.queued == 3)
        // As if the job-server had died before its last checkpoint: the same run from the start.
        run.status = .sending
        run.checkpoint = ""
        run.queued = 0
        try await world.store.save(run)
        try await world.runner.run(runId: run._id)
        run = try #require(try await world.store.runs.findOne(["_id": .string(run._id)]))
        #expect(run.queued == 0, "every recipient already had their message")
        #expect(try await world.harness.amqp.messageCount(queue: "delivery.email.bulk") == 3)
        #expect(Set(try await world.sends(run._id).map(\._id)).count == 3)
        await world.finish()
    }

    @Test("messages go out from the account's IP pool unless the campaign names its own")
    func accountPool() async throws {
        let world = try await World()
        try await world.store.limits.insertOne(AccountLimits(accountId: "acc1", ipPool: "warm"))
        for (name, pool) in [("Default pool", ""), ("Own pool", "own")] {
            let campaign = try await world.campaign(name) { $0.ipPool = pool }
            let run = CampaignRun(campaign: campaign, number: 1, scheduledFor: Date())
            try await world.store.save(run)
            try await world.runner.run(runId: run._id)
        }
        let consumer = try await world.harness.amqp.consume(queue: "delivery.email.bulk", prefetch: 10)
        var pools: [String] = []
        for try await delivery in consumer {
            delivery.ack()
            pools.append(try Herald_Delivery_V1_EmailDelivery(serializedBytes: delivery.body).ipPool)
            if pools.count == 6 { break }
        }
        consumer.cancel()
        #expect(pools.sorted() == ["own", "own", "own", "warm", "warm", "warm"])
        await world.finish()
    }

    @Test("the account's daily allowance (a ramp-up's) stops a run, which waits for the next day")
    func accountAllowance() async throws {
        let world = try await World()
        let today = RampUp.dayString(Date())
        try await world.store.limits.insertOne(AccountLimits(accountId: "acc1", rampUp: RampUp(startPerDay: 2, day: today)))
        let campaign = try await world.campaign()
        var run = CampaignRun(campaign: campaign, number: 1, scheduledFor: Date())
        try await world.store.save(run)
        try await world.runner.run(runId: run._id)
        run = try #require(try await world.store.runs.findOne(["_id": .string(run._id)]))
        #expect(run.status == .waiting && run.queued == 2)
        #expect(run.resumeAt.map { $0 > Date().addingTimeInterval(60) } == true)
        #expect(run.message == "waiting for the sending limit")
        await world.finish()
    }

    @Test("an A/B test sends two subjects to its share, then the winner by opens to the rest")
    func abTest() async throws {
        let world = try await World(batchSize: 10, extra: 45)
        try await world.start()
        let campaign = try await world.campaign {
            $0.variants = [CampaignVariant(id: "A", subject: "Subject A"), CampaignVariant(id: "B", subject: "Subject B")]
            $0.test = SplitTest(share: 0.5, metric: .opens, waitMinutes: 0)
        }
        let run = try await world.launch(campaign)
        let tested = try await world.waitForRun(run._id, status: .testing)
        let testSends = try await world.sends(run._id).filter { !$0.observer }
        #expect(tested.queued == testSends.count)
        #expect(testSends.count > 8 && testSends.count < 40, "only the test share (about half of 48) got the test: \(testSends.count)")
        #expect(Set(testSends.map(\.variant)) == ["A", "B"])
        // The variants' results: a recipient of the test opens (what the tracker's open pixel would record).
        let opener = try #require(testSends.first)
        _ = try await world.store.sends.updateOne(filter: ["_id": .string(opener._id)], update: ["$currentDate": ["openedAt": true]])
        try await world.scheduler.tick()
        let done = try await world.waitForRun(run._id)
        let all = try await world.sends(run._id)
        #expect(all.count == 48)
        let winner = try #require(try await world.store.campaigns.findOne(["_id": .string(campaign._id)])?.test?.winner)
        #expect(winner == opener.variant)
        #expect(all.filter { !testSends.map(\._id).contains($0._id) }.allSatisfy { $0.variant == winner })
        #expect(done.queued == 48)
        let received = try await world.sink.waitForMessages(48)
        #expect(received.filter { !testSends.map(\.address).contains($0.recipients[0]) }.allSatisfy { $0.text.contains("Subject: Subject \(winner)") })
        await world.finish()
    }

    @Test("a regular campaign runs on its schedule, twice, each run freezing its audience anew")
    func regular() async throws {
        let world = try await World()
        try await world.start()
        let campaign = try await world.campaign {
            $0.kind = .regular
            $0.status = .scheduled
            $0.schedule = CampaignSchedule(at: Date().addingTimeInterval(-1), repeats: .daily)
        }
        try await world.scheduler.tick()
        let first = try await world.waitForRun("\(campaign._id)-1")
        #expect(first.queued == 3)
        // The campaign goes back to its schedule just after its run is marked sent.
        var afterFirst = try #require(try await world.store.campaigns.findOne(["_id": .string(campaign._id)]))
        for _ in 0..<100 where afterFirst.status != .scheduled {
            try await Task.sleep(for: .milliseconds(50))
            afterFirst = try #require(try await world.store.campaigns.findOne(["_id": .string(campaign._id)]))
        }
        #expect(afterFirst.status == .scheduled)
        #expect(afterFirst.schedule.nextRunAt.map { $0 > Date().addingTimeInterval(86_000) } == true, "the next run is tomorrow")
        // A day later (the next run's time brought forward).
        var dayLater = try #require(try await world.store.campaigns.findOne(["_id": .string(campaign._id)]))
        dayLater.schedule.nextRunAt = Date().addingTimeInterval(-1)
        _ = try await world.store.campaigns.replaceOne(filter: ["_id": .string(campaign._id)], replacement: dayLater)
        try await world.scheduler.tick()
        let second = try await world.waitForRun("\(campaign._id)-2")
        #expect(second.queued == 3)
        #expect(second.frozenSegmentId != first.frozenSegmentId)
        try await world.sink.waitForMessages(6)
        await world.finish()
    }
}

@Suite("Campaign rules")
struct CampaignRuleTests {
    @Test("message ids are stable per run and profile, and spread evenly")
    func messageIds() {
        let a = EmailBuilder.messageId(run: "c1-1", profile: "65f000000000000000000001")
        #expect(a == EmailBuilder.messageId(run: "c1-1", profile: "65f000000000000000000001"))
        #expect(a != EmailBuilder.messageId(run: "c1-2", profile: "65f000000000000000000001"))
        #expect(a.count == 24 && a.allSatisfy(\.isHexDigit))
        let fractions = (0..<2000).map { n in
            Double(UInt64(EmailBuilder.messageId(run: "c1", profile: String(format: "65f0000000000000000%05d", n)).prefix(12), radix: 16)!) / Double(1 << 48)
        }
        let low = fractions.filter { $0 < 0.2 }.count
        #expect((300...500).contains(low), "about a fifth below 0.2: \(low)")
    }

    @Test("quiet hours move a message to their end in the recipient's time zone")
    func quietHours() throws {
        var campaign = Campaign(accountId: "a", name: "n", kind: .oneOff, databaseId: "d", segmentId: "s", templateId: "t", by: "x")
        campaign.policies = SendingPolicies(quietFrom: 22, quietTo: 8)
        let moscow = Profile(accountId: "a", databaseId: "d", fields: ["timezone": "Europe/Moscow"])
        // 20:30 UTC is 23:30 in Moscow: quiet until 08:00 Moscow, 05:00 UTC.
        let evening = try #require(ISO8601DateFormatter().date(from: "2026-11-29T20:30:00Z"))
        #expect(CampaignRunner.notBefore(profile: moscow, campaign: campaign, now: evening) == ISO8601DateFormatter().date(from: "2026-11-30T05:00:00Z"))
        // 10:00 UTC is 13:00 in Moscow: at once.
        let noon = try #require(ISO8601DateFormatter().date(from: "2026-11-29T10:00:00Z"))
        #expect(CampaignRunner.notBefore(profile: moscow, campaign: campaign, now: noon) == nil)
    }

    @Test("a regular campaign on a cron-like schedule runs at its times in the account's zone, none before its first time")
    func cronSchedule() throws {
        let iso = ISO8601DateFormatter()
        var schedule = CampaignSchedule(repeats: .cron, cron: "0 9 * * MON-FRI", timeZone: "Europe/Moscow")
        // Saturday 2026-11-28 noon UTC: Monday 09:00 Moscow.
        #expect(schedule.next(after: iso.date(from: "2026-11-28T12:00:00Z")!) == iso.date(from: "2026-11-30T06:00:00Z"))
        schedule.at = iso.date(from: "2026-12-02T00:00:00Z")
        #expect(schedule.next(after: iso.date(from: "2026-11-28T12:00:00Z")!) == iso.date(from: "2026-12-02T06:00:00Z"), "not before the first time")
        schedule.cron = "not cron"
        #expect(schedule.next(after: Date()) == nil)
    }

    @Test("a ramp-up grows on clean days, holds when unused, falls back on bounces")
    func rampUp() {
        var ramp = RampUp(startPerDay: 1000, factor: 2, maxPerDay: 5000, bounceThreshold: 0.05, complaintThreshold: 0.001, day: "2026-11-01")
        ramp.advance(to: "2026-11-02", sent: 1000, bounced: 10, complained: 0)
        #expect(ramp.allowance == 2000 && ramp.history.last?.decision == .grow)
        ramp.advance(to: "2026-11-03", sent: 300, bounced: 0, complained: 0)
        #expect(ramp.allowance == 2000 && ramp.history.last?.decision == .hold)
        ramp.advance(to: "2026-11-04", sent: 2000, bounced: 0, complained: 0)
        ramp.advance(to: "2026-11-05", sent: 4000, bounced: 0, complained: 0)
        #expect(ramp.allowance == 5000, "never above the maximum")
        ramp.advance(to: "2026-11-06", sent: 5000, bounced: 400, complained: 0)
        #expect(ramp.allowance == 2500 && ramp.history.last?.decision == .fallBack)
        ramp.advance(to: "2026-11-07", sent: 2500, bounced: 0, complained: 10)
        #expect(ramp.allowance == 1250 && ramp.history.last?.decision == .fallBack)
        ramp.advance(to: "2026-11-07", sent: 99999, bounced: 99999, complained: 0)
        #expect(ramp.allowance == 1250, "the same day twice changes nothing")
    }

    @Test("the A/B winner is the variant with the best rate of the metric")
    func winner() {
        let results = [CampaignResults.Variant(variant: "A", sent: 100, delivered: 100, opened: 20, clicked: 9),
                       CampaignResults.Variant(variant: "B", sent: 50, delivered: 50, opened: 15, clicked: 2)]
        #expect(SplitTest.winner(of: results, by: .opens) == "B")
        #expect(SplitTest.winner(of: results, by: .clicks) == "A")
    }
}
