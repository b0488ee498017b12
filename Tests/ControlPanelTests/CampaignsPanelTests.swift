import AMQP
import BSON
import Campaigns
import ControlPanel
import Contracts
import CustomerData
import Foundation
import HeraldTesting
import Hummingbird
import HummingbirdTesting
import MailSending
import ServiceSupport
import Testing

/// Campaigns and the sender's settings through the API and the panel: validation by field, the
/// life of a campaign (schedule, calendar, pause, resume, cancel, delete, send now), a triggered
/// send, and delivery rules, sending domains with DKIM records, IP pools and queue controls.
@Suite struct CampaignsPanelTests {
    static func token(_ harness: PanelHarness) async throws -> HTTPFields {
        let admin = try await harness.identity("admin@alpha.test", PanelHarness.adminPassword)
        let (_, token) = try await harness.panel.administration.createToken(name: "campaigns", scopes: [
            "databases:view", "databases:create", "profiles:view", "profiles:create", "profiles:edit", "segments:view", "segments:create", "segments:edit",
            "templates:view", "templates:create", "campaigns:view", "campaigns:create", "campaigns:edit", "campaigns:delete", "campaigns:send",
            "channels:view", "channels:edit",
        ], expiresInDays: nil, by: admin)
        return [.authorization: "Bearer \(token)", .contentType: "application/json"]
    }

    /// A database with two subscribers, a segment of both, an e-mail and an SMS template.
    static func world(_ client: some TestClientProtocol, _ auth: HTTPFields) async throws -> (db: String, segment: String, email: String, sms: String) {
        let db = try #require(try jsonObject(try await client.execute(uri: "/api/v1/databases", method: .post, headers: auth, body: ByteBuffer(string: #"""
            {"name": "Shop", "fields": [{"key": "email", "type": "email", "unique": true}, {"key": "name", "type": "string"}]}
            """#)))["id"] as? String)
        _ = try await client.execute(uri: "/api/v1/databases/\(db)/profiles/bulk", method: .post, headers: auth, body: ByteBuffer(string: #"""
            {"profiles": [{"fields": {"email": "anna@x.io", "name": "Anna"}, "subscriptions": [{"channel": "email", "address": "anna@x.io", "resource": "news"}]},
                          {"fields": {"email": "bob@x.io", "name": "Bob"}, "subscriptions": [{"channel": "email", "address": "bob@x.io", "resource": "news"}]}]}
            """#))
        let segment = try #require(try jsonObject(try await client.execute(uri: "/api/v1/databases/\(db)/segments", method: .post, headers: auth,
                                                                          body: ByteBuffer(string: #"{"name": "All", "rule": {"field": "email", "op": "not_empty"}}"#)))["id"] as? String)
        let email = try #require(try jsonObject(try await client.execute(uri: "/api/v1/templates", method: .post, headers: auth, body: ByteBuffer(string: #"""
            {"name": "Order", "channel": "email", "content": {"subject": "Order {{ order.number }} for {{ profile.name }}", "fromName": "Shop", "fromAddress": "news@shop.test",
             "html": "<p>Thanks, {{ profile.name }}. <a href=\"https://shop.test/o\">Your order</a></p>"}}
            """#)))["id"] as? String)
        let sms = try #require(try jsonObject(try await client.execute(uri: "/api/v1/templates", method: .post, headers: auth, body: ByteBuffer(string: #"""
            {"name": "Code", "channel": "sms", "content": {"body": "Code 1234"}}
            """#)))["id"] as? String)
        return (db, segment, email, sms)
    }

    @Test func aCampaignIsCheckedScheduledPausedResumedCancelledAndSent() async throws {
        try await PanelHarness.with(imports: true) { harness, client in
            let auth = try await Self.token(harness)
            let (db, segment, email, sms) = try await Self.world(client, auth)
            // Errors name their field.
            let noSegment = try await client.execute(uri: "/api/v1/campaigns", method: .post, headers: auth,
                                                     body: ByteBuffer(string: #"{"name": "Sale", "databaseId": "\#(db)", "templateId": "\#(email)"}"#))
            #expect(noSegment.status == .unprocessableContent && String(buffer: noSegment.body).contains("\"field\":\"segmentId\""))
            let smsTemplate = try await client.execute(uri: "/api/v1/campaigns", method: .post, headers: auth,
                                                       body: ByteBuffer(string: #"{"name": "Sale", "databaseId": "\#(db)", "segmentId": "\#(segment)", "templateId": "\#(sms)"}"#))
            #expect(smsTemplate.status == .unprocessableContent && String(buffer: smsTemplate.body).contains("only e-mail templates"))
            let badObserver = try await client.execute(uri: "/api/v1/campaigns", method: .post, headers: auth, body: ByteBuffer(string:
                #"{"name": "Sale", "databaseId": "\#(db)", "segmentId": "\#(segment)", "templateId": "\#(email)", "observers": ["not an address"]}"#))
            #expect(badObserver.status == .unprocessableContent && String(buffer: badObserver.body).contains("\"field\":\"observers\""))
            let badCron = try await client.execute(uri: "/api/v1/campaigns", method: .post, headers: auth, body: ByteBuffer(string:
                #"{"name": "Digest", "kind": "regular", "databaseId": "\#(db)", "segmentId": "\#(segment)", "templateId": "\#(email)", "schedule": {"repeats": "cron", "cron": "0 9 * * MON-XYZ"}}"#))
            #expect(badCron.status == .unprocessableContent && String(buffer: badCron.body).contains("\"field\":\"schedule.cron\""), "\(String(buffer: badCron.body))")
            let eventOnOneOff = try await client.execute(uri: "/api/v1/campaigns", method: .post, headers: auth, body: ByteBuffer(string:
                #"{"name": "Sale", "databaseId": "\#(db)", "segmentId": "\#(segment)", "templateId": "\#(email)", "triggerEvent": "order.paid"}"#))
            #expect(eventOnOneOff.status == .unprocessableContent && String(buffer: eventOnOneOff.body).contains("\"field\":\"triggerEvent\""))
            let triggered = try jsonObject(try await client.execute(uri: "/api/v1/campaigns", method: .post, headers: auth, body: ByteBuffer(string:
                #"{"name": "Paid", "kind": "triggered", "databaseId": "\#(db)", "templateId": "\#(email)", "triggerEvent": "order.paid"}"#)))
            #expect(triggered["triggerEvent"] as? String == "order.paid")
            // A regular campaign on a cron-like schedule: launched, its next run is the schedule's next time.
            let digest = try jsonObject(try await client.execute(uri: "/api/v1/campaigns", method: .post, headers: auth, body: ByteBuffer(string:
                #"{"name": "Digest", "kind": "regular", "databaseId": "\#(db)", "segmentId": "\#(segment)", "templateId": "\#(email)", "schedule": {"repeats": "cron", "cron": "@daily", "timeZone": "UTC"}}"#)))
            let digestId = try #require(digest["id"] as? String)
            _ = try await client.execute(uri: "/api/v1/campaigns/\(digestId)/launch", method: .post, headers: auth)
            let launched = try #require(try await harness.panel.campaigns.store.campaigns.findOne(["_id": .string(digestId)]))
            var utc = Calendar(identifier: .gregorian)
            utc.timeZone = .gmt
            #expect(launched.status == .scheduled && launched.schedule.nextRunAt == utc.date(byAdding: .day, value: 1, to: utc.startOfDay(for: Date())))
            _ = try await client.execute(uri: "/api/v1/campaigns/\(digestId)/cancel", method: .post, headers: auth)

            // A draft with an MVT: every combination is a variant.
            let created = try await client.execute(uri: "/api/v1/campaigns", method: .post, headers: auth, body: ByteBuffer(string: #"""
                {"name": "Sale", "databaseId": "\#(db)", "segmentId": "\#(segment)", "templateId": "\#(email)", "resource": "news",
                 "mvt": {"subjects": ["One", "Two"], "fromNames": ["Shop", "Team"]}, "test": {"share": 0.5, "metric": "clicks", "waitMinutes": 60},
                 "limits": {"perHour": 1000}, "policies": {"quietFrom": 22, "quietTo": 8, "frequencyCap": 3, "frequencyDays": 7}}
                """#))
            #expect(created.status == .created)
            let campaign = try jsonObject(created)
            let id = try #require(campaign["id"] as? String)
            #expect(campaign["status"] as? String == "draft")
            #expect((campaign["variants"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["S1·F1", "S1·F2", "S2·F1", "S2·F2"])

            // Scheduled for tomorrow: in the calendar as planned; paused, resumed, cancelled.
            let tomorrow = ISO8601DateFormatter().string(from: Date().addingTimeInterval(86_400))
            let scheduled = try await client.execute(uri: "/api/v1/campaigns/\(id)/launch", method: .post, headers: auth, body: ByteBuffer(string: #"{"at": "\#(tomorrow)"}"#))
            #expect(try jsonObject(scheduled)["status"] as? String == "scheduled")
            let calendar = try jsonObject(try await client.execute(uri: "/api/v1/campaigns/calendar", method: .get, headers: auth))
            #expect((calendar["items"] as? [[String: Any]])?.contains { $0["campaignId"] as? String == id && $0["planned"] as? Bool == true } == true)
            #expect(try jsonObject(try await client.execute(uri: "/api/v1/campaigns/\(id)/pause", method: .post, headers: auth))["status"] as? String == "paused")
            #expect(try jsonObject(try await client.execute(uri: "/api/v1/campaigns/\(id)/resume", method: .post, headers: auth))["status"] as? String == "scheduled")
            let deleteWhilePaused = try await client.execute(uri: "/api/v1/campaigns/\(id)/pause", method: .post, headers: auth)
            #expect(deleteWhilePaused.status == .ok)
            #expect(try await client.execute(uri: "/api/v1/campaigns/\(id)", method: .delete, headers: auth).status == .unprocessableContent)
            #expect(try jsonObject(try await client.execute(uri: "/api/v1/campaigns/\(id)/cancel", method: .post, headers: auth))["status"] as? String == "cancelled")

            // Sent now: a run is made and job-server is asked to expand it.
            let now = try jsonObject(try await client.execute(uri: "/api/v1/campaigns/\(id)/launch", method: .post, headers: auth))
            #expect(now["status"] as? String == "sending")
            let report = try jsonObject(try await client.execute(uri: "/api/v1/campaigns/\(id)/report", method: .get, headers: auth))
            let runs = try #require(report["runs"] as? [[String: Any]])
            #expect((runs.first?["run"] as? [String: Any])?["status"] as? String == "queued")
            #expect(try await harness.panel.campaigns.store.runs.countDocuments(["campaignId": .string(id)]) == 1)

            // The panel's pages.
            let browser = Browser(client)
            _ = try await browser.logIn("admin@alpha.test", PanelHarness.adminPassword)
            #expect(try await browser.get("/campaigns").body.contains("Sale"))
            let page = try await browser.get("/campaigns/\(id)")
            #expect(page.status == .ok && page.body.contains("campaign-runs") && page.body.contains("S2·F2"))
            #expect(try await browser.get("/campaigns/calendar").status == .ok)
            let actions = try await harness.auditActions()
            for action in ["campaign.create", "campaign.launch", "campaign.pause", "campaign.resume", "campaign.cancel"] { #expect(actions.contains(action), "\(action)") }
        }
    }

    @Test func aTriggeredCampaignSendsOneMessageAtOnceWithTheCallsData() async throws {
        try await PanelHarness.with(imports: true, trackingSecret: "panel-tests-tracking-secret-0123456789abcdef") { harness, client in
            let auth = try await Self.token(harness)
            let (db, _, email, _) = try await Self.world(client, auth)
            let amqp = AMQPConnection(configuration: try AMQPConfiguration(url: TestEnvironment.amqpURL, connectionName: "triggered-test"), logger: TestEnvironment.logger("amqp"))
            try await amqp.waitUntilConnected()
            let queue = TestEnvironment.uniqueName("transactional")
            try await amqp.declare(BusTopology.exchanges.merging(AMQPTopology(queues: [.init(queue, durable: false, autoDelete: true)],
                                                                                bindings: [.init(queue: queue, exchange: BusExchange.delivery, routingKey: BusRoutingKey.transactionalEmail)])))
            let id = try #require(try jsonObject(try await client.execute(uri: "/api/v1/campaigns", method: .post, headers: auth, body: ByteBuffer(string:
                #"{"name": "Order confirmation", "kind": "triggered", "databaseId": "\#(db)", "templateId": "\#(email)", "resource": "news"}"#)))["id"] as? String)
            let notActive = try await client.execute(uri: "/api/v1/campaigns/\(id)/send", method: .post, headers: auth, body: ByteBuffer(string: #"{"email": "anna@x.io"}"#))
            #expect(notActive.status == .unprocessableContent)
            #expect(try jsonObject(try await client.execute(uri: "/api/v1/campaigns/\(id)/launch", method: .post, headers: auth))["status"] as? String == "active")
            let unknown = try await client.execute(uri: "/api/v1/campaigns/\(id)/send", method: .post, headers: auth, body: ByteBuffer(string: #"{"email": "nobody@x.io"}"#))
            #expect(unknown.status == .unprocessableContent)
            let sent = try await client.execute(uri: "/api/v1/campaigns/\(id)/send", method: .post, headers: auth,
                                                body: ByteBuffer(string: #"{"email": "anna@x.io", "data": {"order": {"number": "A-17"}}}"#))
            #expect(sent.status == .accepted)
            let messageId = try #require(try jsonObject(sent)["messageId"] as? String)
            let consumer = try await amqp.consume(queue: queue, prefetch: 10)
            var iterator = consumer.makeAsyncIterator()
            let delivery = try #require(try await iterator.next())
            delivery.ack()
            let message = try Herald_Delivery_V1_EmailDelivery(serializedBytes: delivery.body)
            #expect(message.messageID == messageId && message.transactional && message.recipient == "anna@x.io")
            let mime = String(decoding: message.mime, as: UTF8.self)
            #expect(mime.contains("Subject: Order A-17 for Anna"))
            #expect(message.mailFrom.hasSuffix("@bounces.shop.test") && message.senderID == "shop.test")
            let record = try #require(try await harness.panel.campaigns.store.sends.findOne(["_id": .string(messageId)]))
            #expect(record.status == .queued && record.address == "anna@x.io")

            // The same from the profile card: the API's action and the panel's button.
            let database = try #require(try await harness.panel.customers.databases.findOne(["_id": .string(db)]))
            let bob = try #require(try await harness.panel.customers.profiles.list(database, search: "bob@x.io").first)
            let fromCard = try await client.execute(uri: "/api/v1/databases/\(db)/profiles/\(bob._id)/send", method: .post, headers: auth,
                                                    body: ByteBuffer(string: #"{"campaignId": "\#(id)", "data": {"order": {"number": "B-2"}}}"#))
            #expect(fromCard.status == .accepted)
            let second = try #require(try await iterator.next())
            second.ack()
            #expect(String(decoding: try Herald_Delivery_V1_EmailDelivery(serializedBytes: second.body).mime, as: UTF8.self).contains("Subject: Order B-2 for Bob"))
            let browser = Browser(client)
            _ = try await browser.logIn("admin@alpha.test", PanelHarness.adminPassword)
            let card = try await browser.get("/databases/\(db)/profiles/\(bob._id)")
            #expect(card.body.contains("id=\"send-form\"") && card.body.contains("Order confirmation"))
            let clicked = try await browser.post("/databases/\(db)/profiles/\(bob._id)/send", [("campaign", id)])
            #expect(clicked.location?.contains("notice=saved") == true)
            let third = try #require(try await iterator.next())
            third.ack()
            consumer.cancel()
            await amqp.close()
        }
    }

    @Test func deliverySettingsAndQueueControls() async throws {
        try await PanelHarness.with { harness, client in
            let auth = try await Self.token(harness)
            let domain = try await client.execute(uri: "/api/v1/delivery/domains", method: .post, headers: auth,
                                                  body: ByteBuffer(string: #"{"domain": "shop.test", "selector": "h1", "algorithm": "ed25519"}"#))
            #expect(domain.status == .created)
            let record = try #require(try jsonObject(domain)["dnsRecord"] as? String)
            let dnsName = try jsonObject(domain)["dnsName"] as? String
            #expect(record.hasPrefix("v=DKIM1; k=ed25519; p=") && dnsName == "h1._domainkey.shop.test")
            #expect(!String(buffer: domain.body).contains("PRIVATE KEY"), "the private key is never shown")
            let again = try await client.execute(uri: "/api/v1/delivery/domains", method: .post, headers: auth, body: ByteBuffer(string: #"{"domain": "shop.test"}"#))
            #expect(again.status == .unprocessableContent)
            let rsa = try await client.execute(uri: "/api/v1/delivery/domains", method: .post, headers: auth, body: ByteBuffer(string: #"{"domain": "other.test"}"#))
            #expect(try jsonObject(rsa)["dnsRecord"].map { ($0 as? String)?.hasPrefix("v=DKIM1; k=rsa; p=") == true } == true)

            let badRule = try await client.execute(uri: "/api/v1/delivery/rules", method: .post, headers: auth, body: ByteBuffer(string: #"{"match": "not a domain"}"#))
            #expect(badRule.status == .unprocessableContent && String(buffer: badRule.body).contains("\"field\":\"match\""))
            let rule = try await client.execute(uri: "/api/v1/delivery/rules", method: .post, headers: auth,
                                                body: ByteBuffer(string: #"{"match": "gmail.com", "maxConnections": 20, "perHour": 5000, "tls": "required"}"#))
            #expect(rule.status == .created)
            let stored = try #require(try await harness.panel.delivery.rules.findOne(["match": "gmail.com"]))
            #expect(stored.maxConnections == 20 && stored.perHour == 5000 && stored.tls == .required)
            // A provider warm-up: a wrong one is refused by field; a right one shows where it stands today.
            let badWarmUp = try await client.execute(uri: "/api/v1/delivery/rules", method: .post, headers: auth,
                                                     body: ByteBuffer(string: #"{"match": "mail.ru", "warmUp": {"startPerDay": 500, "factor": 1, "targetPerDay": 100}}"#))
            #expect(badWarmUp.status == .unprocessableContent && String(buffer: badWarmUp.body).contains("\"field\":\"warmUp.factor\""))
            let startedOn = Date().addingTimeInterval(-2 * 86_400).formatted(.iso8601.year().month().day())
            let warm = try jsonObject(try await client.execute(uri: "/api/v1/delivery/rules", method: .post, headers: auth, body: ByteBuffer(string:
                #"{"match": "mail.ru", "warmUp": {"startPerDay": 100, "factor": 2, "targetPerDay": 10000, "startedOn": "\#(startedOn)"}}"#)))
            let warmUp = try #require(warm["warmUp"] as? [String: Any])
            #expect(warmUp["day"] as? Int == 2 && warmUp["allowanceToday"] as? Int == 400 && warmUp["startedOn"] as? String == startedOn)
            let timed = try jsonObject(try await client.execute(uri: "/api/v1/delivery/rules", method: .post, headers: auth, body: ByteBuffer(string:
                #"{"match": "yandex.ru", "warmUp": {"startPerDay": 100, "targetPerDay": 10000, "startedOn": "2026-01-05T10:00:00Z"}}"#)))
            #expect((timed["warmUp"] as? [String: Any])?["startedOn"] as? String == "2026-01-05", "a full ISO 8601 time gives its day")
            let badDay = try await client.execute(uri: "/api/v1/delivery/rules", method: .post, headers: auth, body: ByteBuffer(string:
                #"{"match": "rambler.ru", "warmUp": {"startPerDay": 100, "targetPerDay": 10000, "startedOn": "5 Jan"}}"#))
            #expect(badDay.status == .unprocessableContent && String(buffer: badDay.body).contains("\"field\":\"warmUp.startedOn\""))

            let pool = try await client.execute(uri: "/api/v1/delivery/pools/marketing", method: .put, headers: auth,
                                                body: ByteBuffer(string: #"{"addresses": ["203.0.113.10", "nope"]}"#))
            #expect(pool.status == .unprocessableContent)
            #expect(try await client.execute(uri: "/api/v1/delivery/pools/marketing", method: .put, headers: auth,
                                             body: ByteBuffer(string: #"{"addresses": ["203.0.113.10", "203.0.113.11"], "heloName": "mta1.shop.test"}"#)).status == .ok)

            // A node's report, as mta-sender writes it, shows on the queues; a pause reaches the nodes through the store.
            try await harness.panel.delivery.nodes.insertOne(SenderNodeReport(_id: "node-a", startedAt: Date(), updatedAt: Date(), sites: [
                .init(site: "mx.gmail.test", pool: "", domains: ["gmail.com"], rule: "gmail.com", waiting: 12, inFlight: 3, connections: 2, suspendedUntil: nil,
                      paused: false, delivered: 100, deferred: 4, bounced: 1, failed: 0, lastReply: "250 2.0.0 OK"),
            ]))
            let queues = try jsonObject(try await client.execute(uri: "/api/v1/delivery/queues", method: .get, headers: auth))
            #expect((queues["sites"] as? [[String: Any]])?.first?["waiting"] as? Int == 12)
            #expect(try await client.execute(uri: "/api/v1/delivery/sites/mx.gmail.test/pause", method: .post, headers: auth).status == .noContent)
            #expect(try await harness.panel.delivery.controls.findOne(["_id": "mx.gmail.test"])?.paused == true)

            let browser = Browser(client)
            _ = try await browser.logIn("admin@alpha.test", PanelHarness.adminPassword)
            // Account limits with a ramp-up.
            let badLimits = try await client.execute(uri: "/api/v1/delivery/limits", method: .put, headers: auth,
                                                     body: ByteBuffer(string: #"{"rampUp": {"startPerDay": 1000, "factor": 50}}"#))
            #expect(badLimits.status == .unprocessableContent && String(buffer: badLimits.body).contains("\"field\":\"rampUp.factor\""))
            let limits = try jsonObject(try await client.execute(uri: "/api/v1/delivery/limits", method: .put, headers: auth,
                                                                 body: ByteBuffer(string: #"{"perDay": 50000, "rampUp": {"startPerDay": 1000, "factor": 2}}"#)))
            #expect(limits["allowanceToday"] as? Int == 1000)
            let unknownPool = try await client.execute(uri: "/api/v1/delivery/limits", method: .put, headers: auth, body: ByteBuffer(string: #"{"ipPool": "nope"}"#))
            #expect(unknownPool.status == .unprocessableContent && String(buffer: unknownPool.body).contains("\"field\":\"ipPool\""))
            let pooled = try jsonObject(try await client.execute(uri: "/api/v1/delivery/limits", method: .put, headers: auth,
                                                                 body: ByteBuffer(string: #"{"perDay": 50000, "rampUp": {"startPerDay": 1000, "factor": 2}, "ipPool": "marketing"}"#)))
            #expect(pooled["ipPool"] as? String == "marketing" && pooled["allowanceToday"] as? Int == 1000, "the ramp-up's progress is kept")

            let page = try await browser.get("/settings/delivery")
            #expect(page.status == .ok && page.body.contains("h1._domainkey.shop.test") && page.body.contains("mx.gmail.test") && page.body.contains("203.0.113.11"))
            #expect(page.body.contains("id=\"allowance-today\">1000<") && page.body.contains("ramp-history"))
            #expect(page.body.contains("100 × 2.0 → 10000"), "the rule's warm-up")
        }
    }
}
