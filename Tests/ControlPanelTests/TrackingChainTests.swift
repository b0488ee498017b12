import AMQP
import BSON
import ControlPanel
import CustomerData
import Foundation
import HeraldTesting
import Hummingbird
import HummingbirdTesting
import Testing
import Tracking

/// From a recipient's click to the profile: the tracker's events cross the real broker to
/// job-server's activity writer, which records them on the card and applies unsubscribes.
@Suite struct TrackingChainTests {
    @Test func aOneClickUnsubscribeReachesTheProfileAndAClickItsTimeline() async throws {
        try await PanelHarness.with(imports: true) { harness, client in
            let auth = try await TemplatesTests.token(harness)
            let db = try #require(try jsonObject(try await client.execute(uri: "/api/v1/databases", method: .post, headers: auth, body: ByteBuffer(string: #"""
                {"name": "Readers", "fields": [{"key": "email", "type": "email", "unique": true}]}
                """#)))["id"] as? String)
            _ = try await client.execute(uri: "/api/v1/databases/\(db)/profiles/bulk", method: .post, headers: auth, body: ByteBuffer(string: #"""
                {"profiles": [{"fields": {"email": "anna@x.io"}, "subscriptions": [{"channel": "email", "address": "anna@x.io", "resource": "news"},
                                                                                  {"channel": "email", "address": "anna@x.io", "resource": "promo"}]}]}
                """#))
            let database = try #require(try await harness.panel.customers.databases.findOne(["_id": .string(db)]))
            let anna = try #require(try await harness.panel.customers.profiles.list(database, search: "anna@x.io").first)

            let amqp = AMQPConnection(configuration: try AMQPConfiguration(url: TestEnvironment.amqpURL, connectionName: "tracker-chain"), logger: TestEnvironment.logger("amqp"))
            try await amqp.waitUntilConnected()
            let secret = "chain-test-secret-long-enough-0123456789"
            let signer = TrackingSigner(secret: secret)
            let spool = try EventSpool(directory: FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.uniqueName("spool")))
            let recorder = TrackingRecorder(amqp: amqp, spool: spool, logger: TestEnvironment.logger("tracker"))
            let router = Router()
            TrackerEndpoints<BasicRequestContext>(signer: signer, recorder: recorder, logger: TestEnvironment.logger("tracker")).addRoutes(to: router)
            let message = "eeeeeeeeeeeeeeeeeeeeeeee"
            @Sendable func token(_ kind: TrackingToken.Kind, url: String = "", resource: String = "") -> String {
                signer.encode(TrackingToken(kind: kind, accountId: harness.account._id, databaseId: db, messageId: message, profileId: anna._id, url: url,
                                            channel: "email", address: "anna@x.io", resource: resource))
            }
            try await Application(router: router).test(.router) { tracker in
                #expect(try await tracker.execute(uri: "/c/\(token(.click, url: "https://shop.example/a"))", method: .get).status == .found)
                let oneClick = try await tracker.execute(uri: "/u/\(token(.unsubscribe, resource: "news"))", method: .post,
                                                         headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: "List-Unsubscribe=One-Click"))
                #expect(oneClick.status == .ok)
            }
            await recorder.flush()

            var statuses: [String: Subscription.Status] = [:]
            for _ in 0..<200 {
                let profile = try #require(try await harness.panel.customers.profiles.profile(anna._id, in: database))
                statuses = Dictionary(uniqueKeysWithValues: profile.subscriptions.map { ($0.resource, $0.status) })
                if statuses["news"] == .unsubscribed { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(statuses == ["news": .unsubscribed, "promo": .active])
            let timeline = try await harness.panel.customers.profiles.timeline(of: anna).map(\.kind)
            #expect(timeline.contains("message.clicked") && timeline.contains("message.unsubscribed"))
            await amqp.close()
        }
    }

    /// A tracker of the test's own (its endpoints and site events on one router), recording to the test broker.
    static func tracker(_ name: String) async throws -> (amqp: AMQPConnection, signer: TrackingSigner, recorder: TrackingRecorder, router: Router<BasicRequestContext>) {
        let amqp = AMQPConnection(configuration: try AMQPConfiguration(url: TestEnvironment.amqpURL, connectionName: name), logger: TestEnvironment.logger("amqp"))
        try await amqp.waitUntilConnected()
        let signer = TrackingSigner(secret: "\(name)-secret-long-enough-0123456789")
        let recorder = TrackingRecorder(amqp: amqp, spool: try EventSpool(directory: FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.uniqueName("spool"))),
                                        logger: TestEnvironment.logger("tracker"))
        let router = Router()
        SiteEvents<BasicRequestContext>(signer: signer, recorder: recorder).addRoutes(to: router)
        TrackerEndpoints<BasicRequestContext>(signer: signer, recorder: recorder, logger: TestEnvironment.logger("tracker")).addRoutes(to: router)
        return (amqp, signer, recorder, router)
    }

    @Test func aVisitorArrivingFromATrackedLinkIsTiedToTheProfileThatClicked() async throws {
        try await PanelHarness.with(imports: true) { harness, client in
            let auth = try await TemplatesTests.token(harness)
            let (database, gleb) = try await harness.databaseWithProfile(client, auth: auth, name: "Site", email: "gleb@example.com")
            let db = database._id
            let (amqp, signer, recorder, router) = try await Self.tracker("click-identify")
            let key = signer.encode(TrackingToken(kind: .site, accountId: harness.account._id, databaseId: db, messageId: "", profileId: ""))
            let link = signer.encode(TrackingToken(kind: .click, accountId: harness.account._id, databaseId: db, messageId: "aaaaaaaaaaaaaaaaaaaaaaaa",
                                                   profileId: gleb._id, linkIndex: 0, url: "https://shop.example/skis?color=red#sizes"))
            let foreign = signer.encode(TrackingToken(kind: .identify, accountId: harness.account._id, databaseId: "bbbbbbbbbbbbbbbbbbbbbbbb", messageId: "", profileId: gleb._id))
            try await Application(router: router).test(.router) { tracker in
                // The click's redirect carries who clicked, keeping the link's query and fragment.
                let click = try await tracker.execute(uri: "/c/\(link)", method: .get)
                let location = try #require(click.headers[.location])
                #expect(location.hasPrefix("https://shop.example/skis?color=red&hrld=") && location.hasSuffix("#sizes"))
                let who = try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "hrld" }?.value)
                // A page view before the snippet read the parameter, then the snippet's identify with it.
                _ = try await tracker.execute(uri: "/e", method: .post, body: ByteBuffer(string:
                    #"{"site": "\#(key)", "visitor": "v9", "events": [{"type": "page_view", "url": "https://shop.example/"}]}"#))
                await recorder.flush()
                for _ in 0..<100 {
                    if try await harness.panel.customers.profiles.anonymousActivity.countDocuments(["properties.visitor": "v9", "databaseId": .string(db)]) == 1 { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                _ = try await tracker.execute(uri: "/e", method: .post, body: ByteBuffer(string:
                    #"{"site": "\#(key)", "visitor": "v9", "identity": {"click": "\#(who)"}, "events": [{"type": "identify", "url": "https://shop.example/skis"}, {"type": "page_view", "url": "https://shop.example/skis"}]}"#))
                // A token for another database identifies nobody.
                _ = try await tracker.execute(uri: "/e", method: .post, body: ByteBuffer(string:
                    #"{"site": "\#(key)", "visitor": "v10", "identity": {"click": "\#(foreign)"}, "events": [{"type": "page_view", "url": "https://shop.example/x"}]}"#))
            }
            await recorder.flush()
            var kinds: [String] = []
            var anonymous = 0
            for _ in 0..<200 {
                // The earlier activity is copied to the profile first, then removed from the anonymous store.
                kinds = try await harness.panel.customers.profiles.timeline(of: gleb).map(\.kind)
                anonymous = try await harness.panel.customers.profiles.anonymousActivity.countDocuments(["properties.visitor": "v9", "databaseId": .string(db)])
                if kinds.filter({ $0 == "site.page_view" }).count == 2 && kinds.contains("message.clicked") && anonymous == 0 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(kinds.filter { $0 == "site.page_view" }.count == 2 && kinds.contains("site.identified") && kinds.contains("message.clicked"), "\(kinds)")
            #expect(anonymous == 0)
            for _ in 0..<50 {
                if try await harness.panel.customers.profiles.anonymousActivity.countDocuments(["properties.visitor": "v10", "databaseId": .string(db)]) == 1 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(try await harness.panel.customers.profiles.anonymousActivity.countDocuments(["properties.visitor": "v10", "databaseId": .string(db)]) == 1)
            await amqp.close()
        }
    }

    @Test func aVisitorWhoIdentifiesGetsTheirEarlierPageViewsOnTheirProfile() async throws {
        try await PanelHarness.with(imports: true) { harness, client in
            let auth = try await TemplatesTests.token(harness)
            let db = try #require(try jsonObject(try await client.execute(uri: "/api/v1/databases", method: .post, headers: auth, body: ByteBuffer(string: #"""
                {"name": "Site", "fields": [{"key": "email", "type": "email", "unique": true}]}
                """#)))["id"] as? String)
            let database = try #require(try await harness.panel.customers.databases.findOne(["_id": .string(db)]))
            let (amqp, signer, recorder, router) = try await Self.tracker("site-chain")
            let key = signer.encode(TrackingToken(kind: .site, accountId: harness.account._id, databaseId: db, messageId: "", profileId: ""))
            try await Application(router: router).test(.router) { tracker in
                _ = try await tracker.execute(uri: "/e", method: .post, body: ByteBuffer(string:
                    #"{"site": "\#(key)", "visitor": "v1", "events": [{"type": "page_view", "url": "https://shop.example/skis"}, {"type": "page_view", "url": "https://shop.example/poles"}]}"#))
            }
            await recorder.flush()
            // The anonymous views wait; then the visitor logs in.
            for _ in 0..<100 {
                if try await harness.panel.customers.profiles.anonymousActivity.countDocuments(["properties.visitor": "v1", "databaseId": .string(db)]) == 2 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            try await Application(router: router).test(.router) { tracker in
                _ = try await tracker.execute(uri: "/e", method: .post, body: ByteBuffer(string:
                    #"{"site": "\#(key)", "visitor": "v1", "identity": {"email": "Vera@Example.com"}, "events": [{"type": "identify", "url": "https://shop.example/login"}]}"#))
            }
            await recorder.flush()
            var kinds: [String] = []
            for _ in 0..<200 {
                if let vera = try await harness.panel.customers.profiles.list(database, search: "vera@example.com").first {
                    kinds = try await harness.panel.customers.profiles.timeline(of: vera).map(\.kind)
                    if kinds.filter({ $0 == "site.page_view" }).count == 2 { break }
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(kinds.filter { $0 == "site.page_view" }.count == 2 && kinds.contains("site.identified"))
            #expect(try await harness.panel.customers.profiles.anonymousActivity.countDocuments(["properties.visitor": "v1", "databaseId": .string(db)]) == 0)
            await amqp.close()

            // Without a tracking secret, the database's page says how to get its snippet.
            let browser = Browser(client)
            _ = try await browser.logIn("admin@alpha.test", PanelHarness.adminPassword)
            let page = try await browser.get("/databases/\(db)")
            #expect(page.body.contains("id=\"site-tracking\"") && page.body.contains("Set tracking.secret") && !page.body.contains("id=\"site-snippet\""))
        }
    }
}
