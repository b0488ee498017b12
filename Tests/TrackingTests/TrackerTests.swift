import AMQP
import Contracts
import Foundation
import HeraldTesting
import Hummingbird
import HummingbirdTesting
import Testing
import Tracking

/// The tracker's endpoints in process, publishing to a real RabbitMQ: redirects, pixels and
/// one-click unsubscribes are answered at once and reach the bus; forged links go nowhere; with
/// the broker stopped, clicks still redirect and arrive once it is back.
@Suite(.serialized) struct TrackerTests {
    static let secret = "tracker-test-secret-long-enough-0123456789"
    static let account = "0123456789abcdef01234567", database = "89abcdef0123456789abcdef"

    static func token(_ kind: TrackingToken.Kind, message: String = "cccccccccccccccccccccccc", url: String = "", address: String = "") -> String {
        TrackingSigner(secret: secret).encode(TrackingToken(kind: kind, accountId: account, databaseId: database, messageId: message, profileId: "dddddddddddddddddddddddd",
                                                            linkIndex: 1, url: url, channel: address.isEmpty ? "" : "email", address: address, resource: address.isEmpty ? "" : "news"))
    }

    /// A queue of the test's own on the events exchange, and the events that arrive on it for `message`.
    static func events(_ amqp: AMQPConnection, queue: String, message: String, count: Int) async throws -> [Herald_Events_V1_ActivityEvent] {
        let consumer = try await amqp.consume(queue: queue)
        var found: [Herald_Events_V1_ActivityEvent] = []
        let deadline = ContinuousClock.now.advanced(by: .seconds(20))
        for try await delivery in consumer {
            delivery.ack()
            let batch = try Herald_Events_V1_ActivityBatch(serializedBytes: delivery.body)
            found += batch.events.filter { $0.properties.fields["message"]?.stringValue == message }
            if found.count >= count || ContinuousClock.now > deadline { break }
        }
        consumer.cancel()
        return found
    }

    /// A connection to `url`, a queue of the test's own on the events exchange, and a recorder
    /// publishing there with a fresh spool.
    static func bus(_ url: String, queuePrefix: String, durable: Bool = false) async throws -> (AMQPConnection, String, EventSpool, TrackingRecorder) {
        let amqp = AMQPConnection(configuration: try AMQPConfiguration(url: url, connectionName: queuePrefix), logger: TestEnvironment.logger("amqp"))
        try await amqp.waitUntilConnected()
        let queue = TestEnvironment.uniqueName(queuePrefix)
        try await amqp.declare(AMQPTopology(exchanges: [.init(BusExchange.events, kind: .topic)], queues: [.init(queue, durable: durable)],
                                            bindings: [.init(queue: queue, exchange: BusExchange.events, routingKey: "activity.#")]))
        let spool = try EventSpool(directory: FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.uniqueName("spool")))
        return (amqp, queue, spool, TrackingRecorder(amqp: amqp, spool: spool, logger: TestEnvironment.logger("tracker")))
    }

    @Test func clicksOpensAndUnsubscribesAreAnsweredAtOnceAndReachTheBus() async throws {
        let (amqp, queue, spool, recorder) = try await Self.bus(TestEnvironment.amqpURL, queuePrefix: "tracked")
        let router = Router()
        TrackerEndpoints<BasicRequestContext>(signer: TrackingSigner(secret: Self.secret), recorder: recorder, logger: TestEnvironment.logger("tracker")).addRoutes(to: router)
        let message = String(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(24)).lowercased()
        try await Application(router: router).test(.router) { client in
            let click = try await client.execute(uri: "/c/\(Self.token(.click, message: message, url: "https://shop.example/skis?x=1"))", method: .get,
                                                 headers: [.userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"])
            #expect(click.status == .found && click.headers[.location]?.hasPrefix("https://shop.example/skis?x=1&hrld=") == true, "the destination, with who clicked for the site snippet")

            // A forged link, a link to a script, and garbage: an error page and no redirect.
            var forged = Self.token(.click, message: message, url: "https://shop.example/")
            forged.removeLast()
            let evil = TrackingSigner(secret: "someone-elses-secret-long-enough-0123456789").encode(
                TrackingToken(kind: .click, accountId: Self.account, databaseId: Self.database, messageId: message, profileId: "x", url: "https://evil.example/"))
            for path in ["/c/\(forged)", "/c/\(evil)", "/c/\(Self.token(.click, message: message, url: "javascript:alert(1)"))", "/c/nonsense", "/c/\(Self.token(.open, message: message))"] {
                let refused = try await client.execute(uri: path, method: .get)
                #expect(refused.status == .notFound && refused.headers[.location] == nil, "\(path)")
                #expect(String(buffer: refused.body).contains("This link is not valid"))
            }

            let pixel = try await client.execute(uri: "/o/\(Self.token(.open, message: message)).gif", method: .get, headers: [.userAgent: "Mozilla/5.0"])
            #expect(pixel.status == .ok && pixel.headers[.contentType] == "image/gif" && pixel.body.readableBytes == 43)

            let page = try await client.execute(uri: "/u/\(Self.token(.unsubscribe, message: message, address: "anna@example.com"))", method: .get)
            #expect(page.status == .ok && String(buffer: page.body).contains("anna@example.com"))
            // RFC 8058: a POST of List-Unsubscribe=One-Click, no cookie, no redirect; twice is fine.
            for _ in 0..<2 {
                let oneClick = try await client.execute(uri: "/u/\(Self.token(.unsubscribe, message: message, address: "anna@example.com"))", method: .post,
                                                        headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: "List-Unsubscribe=One-Click"))
                #expect(oneClick.status == .ok && oneClick.headers[.location] == nil && oneClick.headers[.setCookie] == nil)
            }
        }
        await recorder.flush()
        let events = try await Self.events(amqp, queue: queue, message: message, count: 4)
        #expect(events.map(\.kind).sorted() == ["message.clicked", "message.opened", "message.unsubscribed", "message.unsubscribed"])
        let click = try #require(events.first { $0.kind == "message.clicked" })
        #expect(click.profileID == "dddddddddddddddddddddddd" && click.databaseID == Self.database && click.properties.fields["url"]?.stringValue == "https://shop.example/skis?x=1")
        #expect(click.properties.fields["machine"]?.boolValue == false)
        let unsubscribe = try #require(events.first { $0.kind == "message.unsubscribed" })
        #expect(unsubscribe.properties.fields["address"]?.stringValue == "anna@example.com" && unsubscribe.properties.fields["method"]?.stringValue == "one_click")
        #expect(spool.count == 0)
        _ = try await amqp.deleteQueue(queue)
        await amqp.close()
    }

    @Test func withTheBrokerStoppedAClickStillRedirectsAndArrivesWhenItIsBack() async throws {
        let node = RabbitMQNode(port: 5674)
        try node.start()
        defer { try? node.stop() }
        let (amqp, queue, spool, recorder) = try await Self.bus(node.url, queuePrefix: "spooled", durable: true)
        let router = Router()
        TrackerEndpoints<BasicRequestContext>(signer: TrackingSigner(secret: Self.secret), recorder: recorder, logger: TestEnvironment.logger("tracker")).addRoutes(to: router)
        let message = String(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(24)).lowercased()

        try node.stop()
        try await Application(router: router).test(.router) { client in
            let click = try await client.execute(uri: "/c/\(Self.token(.click, message: message, url: "https://shop.example/sale"))", method: .get)
            #expect(click.status == .found && click.headers[.location]?.hasPrefix("https://shop.example/sale?hrld=") == true)
        }
        await recorder.flush()
        #expect(spool.count == 1, "the click waits on disk")

        try node.start()
        try await amqp.waitUntilConnected(timeout: .seconds(30))
        await recorder.drainSpool()
        #expect(spool.count == 0)
        let events = try await Self.events(amqp, queue: queue, message: message, count: 1)
        #expect(events.map(\.kind) == ["message.clicked"])
        _ = try await amqp.deleteQueue(queue)
        await amqp.close()
    }

    @Test func siteEventsWithAValidKeyReachTheBusAndOthersAreRefused() async throws {
        let (amqp, queue, spool, recorder) = try await Self.bus(TestEnvironment.amqpURL, queuePrefix: "site")
        let signer = TrackingSigner(secret: Self.secret)
        let router = Router()
        SiteEvents<BasicRequestContext>(signer: signer, recorder: recorder).addRoutes(to: router)
        let key = signer.encode(TrackingToken(kind: .site, accountId: Self.account, databaseId: Self.database, messageId: "", profileId: ""))
        let visitor = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await Application(router: router).test(.router) { client in
            let script = try await client.execute(uri: "/js/herald.js", method: .get)
            #expect(script.status == .ok && String(buffer: script.body).contains("data-consent"))
            let body = #"{"site": "\#(key)", "visitor": "\#(visitor)", "events": [{"type": "page_view", "url": "https://shop.example/catalog", "title": "Catalog"}, {"type": "goal", "name": "signup"}, {"type": "event", "name": "Added to cart", "properties": {"sku": "A-1", "price": 990}}, {"type": "event", "name": "<script>"}]}"#
            let sent = try await client.execute(uri: "/e", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: body))
            #expect(sent.status == .noContent && sent.headers[.accessControlAllowOrigin] == "*")
            let forged = try await client.execute(uri: "/e", method: .post, body: ByteBuffer(string: #"{"site": "\#(Self.token(.open))", "visitor": "v", "events": []}"#))
            #expect(forged.status == .badRequest)
            #expect(try await client.execute(uri: "/e", method: .options).status == .noContent)
        }
        await recorder.flush()
        let consumer = try await amqp.consume(queue: queue)
        var kinds: [String] = []
        for try await delivery in consumer {
            delivery.ack()
            let batch = try Herald_Events_V1_ActivityBatch(serializedBytes: delivery.body)
            let mine = batch.events.filter { $0.properties.fields["visitor"]?.stringValue == visitor }
            kinds += mine.map(\.kind)
            if let cart = mine.first(where: { $0.kind == "site.added_to_cart" }) {
                #expect(cart.properties.fields["sku"]?.stringValue == "A-1" && cart.properties.fields["price"]?.numberValue == 990 && cart.databaseID == Self.database)
            }
            if kinds.count >= 3 { break }
        }
        consumer.cancel()
        #expect(kinds.sorted() == ["goal.reached", "site.added_to_cart", "site.page_view"])
        _ = try await amqp.deleteQueue(queue)
        await amqp.close()
    }
}
