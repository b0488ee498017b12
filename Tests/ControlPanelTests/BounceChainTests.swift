import AMQP
import BSON
import BounceReading
import Campaigns
import ServiceSupport
import ControlPanel
import CustomerData
import Foundation
import HeraldTesting
import Hummingbird
import HummingbirdTesting
import Testing
import Tracking

/// The bounce loop through real servers: a DSN and an ARF complaint in dovecot's POP3 mailbox;
/// bounce-fbl-reader's reader collects them, ties the DSN to its recipient through the VERP
/// address, and deletes them once processed; job-server marks the subscription bounced; the
/// addresses land on the stop list, which is what the next sending consults.
@Suite struct BounceChainTests {
    static func dsn(to verp: String, recipient: String) -> String {
        """
        Return-Path: <>
        Delivered-To: \(verp)
        From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
        To: \(verp)
        Subject: Undelivered Mail Returned to Sender
        Date: Sun, 29 Nov 2026 03:00:00 +0000
        Message-ID: <dsn-\(UUID().uuidString)@mx.example.net>
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="B"

        --B
        Content-Type: text/plain

        I'm sorry to have to inform you that your message could not be delivered.

        --B
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.example.net

        Final-Recipient: rfc822; \(recipient)
        Action: failed
        Status: 5.1.1
        Diagnostic-Code: smtp; 550 5.1.1 <\(recipient)>: Recipient address rejected: User unknown

        --B
        Content-Type: text/rfc822-headers

        From: shop@herald.example
        To: \(recipient)
        Subject: Spring sale

        --B--
        """
    }

    static let complaint = """
        From: feedback@fbl.example.org
        To: fbl@herald.example
        Subject: Abuse report
        Date: Sun, 29 Nov 2026 03:00:00 +0000
        Message-ID: <arf-1@fbl.example.org>
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=feedback-report; boundary="F"

        --F
        Content-Type: text/plain

        This is an email abuse report.

        --F
        Content-Type: message/feedback-report

        Feedback-Type: abuse
        User-Agent: FBL/1.0
        Version: 1
        Original-Rcpt-To: cid@x.io

        --F
        Content-Type: message/rfc822

        From: shop@herald.example
        To: cid@x.io
        Subject: Spring sale

        Hello
        --F--
        """

    @Test func bouncesInAPOP3MailboxReachTheProfileAndTheStopList() async throws {
        let dovecot = try await DovecotServer()
        do {
            try await PanelHarness.with(imports: true) { harness, client in
                let auth = try await TemplatesTests.token(harness)
                let db = try #require(try jsonObject(try await client.execute(uri: "/api/v1/databases", method: .post, headers: auth, body: ByteBuffer(string: #"""
                    {"name": "Bounced", "fields": [{"key": "email", "type": "email", "unique": true}]}
                    """#)))["id"] as? String)
                _ = try await client.execute(uri: "/api/v1/databases/\(db)/profiles/bulk", method: .post, headers: auth, body: ByteBuffer(string: #"""
                    {"profiles": [{"fields": {"email": "bob@x.io"}, "subscriptions": [{"channel": "email", "address": "bob@x.io", "resource": "news"}]}]}
                    """#))
                let database = try #require(try await harness.panel.customers.databases.findOne(["_id": .string(db)]))
                let bob = try #require(try await harness.panel.customers.profiles.list(database, search: "bob@x.io").first)

                let signer = TrackingSigner(secret: "bounce-chain-secret-long-enough-0123456789")
                let token = signer.encode(TrackingToken(kind: .bounce, accountId: harness.account._id, databaseId: db, messageId: "ffffffffffffffffffffffff",
                                                        profileId: bob._id, channel: "email", address: "bob@x.io", resource: "news"))
                try dovecot.deliver(Self.dsn(to: "bounces+\(token)@herald.example", recipient: "bob@x.io"))
                try dovecot.deliver(Self.complaint)
                #expect(dovecot.waiting == 2)

                let amqp = AMQPConnection(configuration: try AMQPConfiguration(url: TestEnvironment.amqpURL, connectionName: "bounce-chain"), logger: TestEnvironment.logger("amqp"))
                try await amqp.waitUntilConnected()
                let settings = harness.client.database(harness.panel.settings.database)
                let processor = BounceProcessor(signer: signer, amqp: amqp, settings: settings, logger: TestEnvironment.logger("bounces"))
                let reader = BounceMailboxReader(settings: settings, processor: processor, logger: TestEnvironment.logger("bounces"))
                // A wrong password reads nothing and deletes nothing.
                var wrong = BounceMailbox(accountId: harness.account._id, name: "wrong", host: "127.0.0.1", port: dovecot.port, security: .none, user: dovecot.user, password: "nope")
                wrong.enabled = false
                #expect(try await reader.read(wrong) == 0 && dovecot.waiting == 2)

                // The mailbox is added through the API, which logs in once: a wrong password is refused at once.
                let admin = try await harness.identity("admin@alpha.test", PanelHarness.adminPassword)
                let (_, channelsToken) = try await harness.panel.administration.createToken(name: "mb", scopes: ["channels:view", "channels:edit"], expiresInDays: nil, by: admin)
                let channels: HTTPFields = [.authorization: "Bearer \(channelsToken)", .contentType: "application/json"]
                let refused = try await client.execute(uri: "/api/v1/bounce-mailboxes", method: .post, headers: channels, body: ByteBuffer(string:
                    #"{"name": "bounces", "host": "127.0.0.1", "port": \#(dovecot.port), "user": "bounces", "password": "wrong"}"#))
                #expect(refused.status == .unprocessableContent && String(buffer: refused.body).contains("refused the login"))
                let added = try await client.execute(uri: "/api/v1/bounce-mailboxes", method: .post, headers: channels, body: ByteBuffer(string:
                    #"{"name": "bounces", "host": "127.0.0.1", "port": \#(dovecot.port), "user": "bounces", "password": "secret", "intervalSeconds": 30}"#))
                #expect(added.status == .created && !String(buffer: added.body).contains("secret"))
                let mailbox = try #require(try await settings.collection(BounceMailbox.collectionName, of: BounceMailbox.self).findOne(["name": "bounces"]))
                #expect(try await reader.readDue() == 2)
                #expect(dovecot.waiting == 0, "processed messages are deleted")
                let stored = try #require(try await settings.collection(BounceMailbox.collectionName, of: BounceMailbox.self).findOne(["_id": .string(mailbox._id)]))
                #expect(stored.lastResult == "2 messages processed" && stored.lastReadAt != nil)

                // The complaint, tied to no message, is on the stop list at once; Bob's bounce goes through job-server.
                #expect(try await harness.panel.stopList.list.blocking("cid@x.io", channel: .email, account: harness.account._id)?.source == .complaint)
                var status: Subscription.Status?
                for _ in 0..<200 {
                    status = try await harness.panel.customers.profiles.profile(bob._id, in: database)?.subscriptions.first?.status
                    if status == .bounced { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(status == .bounced)
                let entry = try await harness.panel.stopList.list.blocking("bob@x.io", channel: .email, account: harness.account._id)
                #expect(entry?.source == .bounce && entry?.reason == "userunknown")
                #expect(try await harness.panel.customers.profiles.timeline(of: bob).map(\.kind).contains("message.bounced"))
                await amqp.close()

                // The next campaign to Bob's database skips him: job-server's runner, publishing to a broker vhost of this test's own.
                let vhost = try await TestVirtualHost.make()
                let delivery = AMQPConnection(configuration: try AMQPConfiguration(url: vhost.url, connectionName: "bounce-chain-campaign"), logger: TestEnvironment.logger("amqp"))
                try await delivery.waitUntilConnected()
                try await delivery.declare(BusTopology.exchanges.merging(BusTopology.emailQueues))
                let campaignAuth = try await CampaignsPanelTests.token(harness)
                _ = try await client.execute(uri: "/api/v1/databases/\(db)/profiles/bulk", method: .post, headers: auth, body: ByteBuffer(string: #"""
                    {"profiles": [{"fields": {"email": "ann@x.io"}, "subscriptions": [{"channel": "email", "address": "ann@x.io", "resource": "news"}]}]}
                    """#))
                let segment = try #require(try jsonObject(try await client.execute(uri: "/api/v1/databases/\(db)/segments", method: .post, headers: campaignAuth,
                                                                                  body: ByteBuffer(string: #"{"name": "Everyone", "rule": {"field": "email", "op": "not_empty"}}"#)))["id"] as? String)
                let template = try #require(try jsonObject(try await client.execute(uri: "/api/v1/templates", method: .post, headers: campaignAuth, body: ByteBuffer(string:
                    #"{"name": "Next", "channel": "email", "content": {"subject": "Next", "fromAddress": "shop@herald.example", "html": "<p>Hi</p>"}}"#)))["id"] as? String)
                let campaignId = try #require(try jsonObject(try await client.execute(uri: "/api/v1/campaigns", method: .post, headers: campaignAuth, body: ByteBuffer(string:
                    #"{"name": "Next sale", "databaseId": "\#(db)", "segmentId": "\#(segment)", "templateId": "\#(template)"}"#)))["id"] as? String)
                let campaign = try #require(try await harness.panel.campaigns.store.campaigns.findOne(["_id": .string(campaignId)]))
                let run = CampaignRun(campaign: campaign, number: 1, scheduledFor: Date())
                try await harness.panel.campaigns.store.save(run)
                let runner = CampaignRunner(settings: settings, customers: harness.panel.customers.profiles.profiles.database, amqp: delivery, signer: signer,
                                            trackerURL: "https://t.herald.example", logger: TestEnvironment.logger("campaigns"))
                try await runner.run(runId: run._id)
                let done = try #require(try await harness.panel.campaigns.store.runs.findOne(["_id": .string(run._id)]))
                #expect(done.status == .sent && done.queued == 1 && done.skipped["bounced"] == 1, "\(done.skipped)")
                #expect(try await harness.panel.campaigns.store.sends.find(["runId": .string(run._id)]).collect().map(\.address) == ["ann@x.io"])
                #expect(try await delivery.messageCount(queue: "delivery.email.bulk") == 1)
                await delivery.close()
                await vhost.delete()
            }
        } catch {
            await dovecot.stop()
            throw error
        }
        await dovecot.stop()
    }
}

/// POP3 over TLS against dovecot with a self-signed certificate: STLS and POP3S both work when
/// told to accept it, and a verified connection refuses it (verification is on unless turned off).
@Suite struct POP3TLSTests {
    @Test func stlsAndPOP3SWorkAndAnUntrustedCertificateIsRefused() async throws {
        let dovecot = try await DovecotServer(tls: true)
        do {
            try dovecot.deliver(BounceChainTests.complaint)
            for (port, security) in [(dovecot.port, POP3Client.Security.starttls), (dovecot.tlsPort, .tls)] {
                let client = POP3Client(host: "127.0.0.1", port: port, security: security, user: dovecot.user, password: dovecot.password, verifyCertificate: false)
                let listed = try await client.session { try await $0.list() }
                #expect(listed.count == 1, "\(security)")
                let verified = POP3Client(host: "127.0.0.1", port: port, security: security, user: dovecot.user, password: dovecot.password)
                await #expect(throws: (any Error).self, "\(security)") { _ = try await verified.session { try await $0.list() } }
            }
            #expect(dovecot.waiting == 1, "listing deletes nothing")
        } catch {
            await dovecot.stop()
            throw error
        }
        await dovecot.stop()
    }
}
