import Content
import CustomerData
import Foundation
import HeraldTesting
import Templates
import Testing

/// Data sources against real servers: PostgreSQL started for the test and a local HTTP service,
/// each with a slow and a failing case. A slow or failing source never holds a recipient longer
/// than its timeout; it gives its fallback, or fails that recipient when required.
@Suite(.serialized) struct DataSourceTests {
    static let profile = ComposedMessageTests.profile()

    @Test func anSQLSourceBindsTheProfileTimesOutFallsBackAndCaches() async throws {
        let postgres = try await PostgresServer()
        do {
            try await postgres.execute("""
                CREATE TABLE recs (email text, title text, price numeric, position int);
                INSERT INTO recs VALUES ('anna@example.com', 'Skis', 990, 1), ('anna@example.com', 'Poles', 49.5, 2), ('bob@example.com', 'Sled', 10, 1);
                """)
            let recs = DataSource(accountId: "acc", name: "recs", kind: .sql, url: postgres.url,
                                  query: "SELECT title, price FROM recs WHERE email = $1 ORDER BY position", parameters: ["email"], timeoutMilliseconds: 15_000)
            let slow = DataSource(accountId: "acc", name: "slow", kind: .sql, url: postgres.url, query: "SELECT pg_sleep(60) AS nap, $1 AS e",
                                  parameters: ["email"], timeoutMilliseconds: 300, fallback: #"[{"title": "Bestseller"}]"#)
            let broken = DataSource(accountId: "acc", name: "broken", kind: .sql, url: postgres.url, query: "SELECT * FROM no_such_table", fallback: "[]")
            let strict = DataSource(accountId: "acc", name: "strict", kind: .sql, url: postgres.url, query: "SELECT * FROM no_such_table", required: true)
            let cache = DataSourceCache()
            let lookup = try DataLookup(sources: [recs, slow, broken, strict], cache: cache)

            let message = try ComposedMessage(MessageContent(body: "{% for r in recs %}{{ r.title }} {{ r.price }}; {% endfor %}|{{ slow[0].title }}|{{ broken.size }}"), channel: .sms)
            let clock = ContinuousClock(), start = clock.now
            var context = try await lookup.values(for: message, profile: Self.profile)
            // The slow query sleeps 60 s: the recipient had its fallback long before it could answer.
            #expect(clock.now - start < .seconds(30), "the recipient waited for the slow query")
            #expect(context.keys.sorted() == ["broken", "recs", "slow"])  // only what the message reads
            context["profile"] = TemplateData.profile(Self.profile)
            #expect(try message.render(context)["body"] == "Skis 990; Poles 49.5; |Bestseller|0")

            // The same question again within the sending: answered from the cache.
            _ = try await lookup.values(for: message, profile: Self.profile)
            let hits = await cache.hits
            #expect(hits == 1)

            // A required source that fails fails this recipient, with the reason.
            let needs = try ComposedMessage(MessageContent(body: "{{ strict.size }}"), channel: .sms)
            await #expect(throws: LookupFailure.self) { try await lookup.values(for: needs, profile: Self.profile) }
        } catch {
            await postgres.stop()
            throw error
        }
        await postgres.stop()
    }

    @Test func anHTTPSourceRendersItsURLFromTheProfileTimesOutFallsBackAndCaches() async throws {
        let service = try await LocalHTTPService()
        do {
            let recs = DataSource(accountId: "acc", name: "recs", kind: .http, url: "\(service.url)/recs?email={{ profile.email | url_encode }}",
                                  headers: ["Authorization": "Bearer {{ profile.id | size }}"], timeoutMilliseconds: 15_000)
            let slow = DataSource(accountId: "acc", name: "slow", kind: .http, url: "\(service.url)/slow", timeoutMilliseconds: 300, fallback: #"{"items": []}"#)
            let broken = DataSource(accountId: "acc", name: "broken", kind: .http, url: "\(service.url)/broken", timeoutMilliseconds: 15_000, fallback: #""none""#)
            let text = DataSource(accountId: "acc", name: "text", kind: .http, url: "\(service.url)/text", timeoutMilliseconds: 15_000, required: true)
            let refused = DataSource(accountId: "acc", name: "refused", kind: .http, url: "http://127.0.0.1:\(FreePort.next())/x", timeoutMilliseconds: 15_000, fallback: "0")
            let cache = DataSourceCache()
            let lookup = try DataLookup(sources: [recs, slow, broken, text, refused], cache: cache)
            let message = try ComposedMessage(MessageContent(
                body: "{{ recs.for }} {{ recs.token }}: {% for i in recs.items %}{{ i.title }} {{ i.price }}; {% endfor %}|{{ slow.items.size }}|{{ broken }}|{{ refused }}"), channel: .sms)
            var context = try await lookup.values(for: message, profile: Self.profile)
            #expect(service.slowAnswered == 0, "the recipient waited for the slow service")
            context["profile"] = TemplateData.profile(Self.profile)
            #expect(try message.render(context)["body"] == "anna@example.com Bearer 24: Skis 990; Poles 49.5; |0|none|0")

            let before = service.requests
            _ = try await lookup.values(for: message, profile: Self.profile)
            let hits = await cache.hits
            #expect(service.requests - before == 2 && hits == 1)  // recs from the cache; slow and broken asked again

            let needsText = try ComposedMessage(MessageContent(body: "{{ text }}"), channel: .sms)
            do {
                _ = try await lookup.values(for: needsText, profile: Self.profile)
                Issue.record("a required source that answered text passed")
            } catch {
                #expect(error.description == "the data source 'text' failed: the answer is not JSON")
            }
        } catch {
            await service.stop()
            throw error
        }
        await service.stop()
    }
}
