import AMQP
import ControlPanel
import Contracts
import CustomerData
import Foundation
import HeraldTesting
import Hummingbird
import HummingbirdTesting
import ServiceSupport
import Testing

/// The profile card's "Add to a scenario" and its API: only an active scenario of the profile's
/// database takes it; the entry reaches the bus for the scenario engine, with the call's data,
/// and the request is on the profile's timeline.
@Suite struct ScenarioEntryTests {
    @Test func anActiveScenarioOfTheDatabaseGetsTheProfileThroughTheBus() async throws {
        try await PanelHarness.with(imports: true) { harness, client in
            let admin = try await harness.identity("admin@alpha.test", PanelHarness.adminPassword)
            let (_, token) = try await harness.panel.administration.createToken(name: "scenarios", scopes: [
                "databases:view", "databases:create", "profiles:view", "profiles:create", "profiles:edit", "scenarios:view", "scenarios:send",
            ], expiresInDays: nil, by: admin)
            let auth: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
            let (database, ilya) = try await harness.databaseWithProfile(client, auth: auth, name: "Club", email: "ilya@example.com")
            let db = database._id

            // The card says so while no scenario takes the database's profiles.
            let browser = Browser(client)
            _ = try await browser.logIn("admin@alpha.test", PanelHarness.adminPassword)
            #expect(try await browser.get("/databases/\(db)/profiles/\(ilya._id)").body.contains("id=\"no-scenarios\""))

            // Scenarios as the scenario editor stores them.
            let welcome = Scenario(accountId: harness.account._id, databaseId: db, name: "Welcome series", status: .active, version: 3)
            let draft = Scenario(accountId: harness.account._id, databaseId: db, name: "Winback", status: .draft)
            let elsewhere = Scenario(accountId: harness.account._id, databaseId: "bbbbbbbbbbbbbbbbbbbbbbbb", name: "Other base", status: .active)
            for scenario in [welcome, draft, elsewhere] { try await harness.panel.scenarioEntries.scenarios.insertOne(scenario) }

            let amqp = AMQPConnection(configuration: try AMQPConfiguration(url: TestEnvironment.amqpURL, connectionName: "scenario-test"), logger: TestEnvironment.logger("amqp"))
            try await amqp.waitUntilConnected()
            let queue = TestEnvironment.uniqueName("entries")
            try await amqp.declare(BusTopology.exchanges.merging(AMQPTopology(queues: [.init(queue, durable: false, autoDelete: true)],
                                                                                bindings: [.init(queue: queue, exchange: BusExchange.events, routingKey: BusRoutingKey.scenarioEntry)])))
            let path = "/api/v1/databases/\(db)/profiles/\(ilya._id)/scenarios"
            let notActive = try await client.execute(uri: path, method: .post, headers: auth, body: ByteBuffer(string: #"{"scenarioId": "\#(draft._id)"}"#))
            #expect(notActive.status == .unprocessableContent && String(buffer: notActive.body).contains("draft"))
            let otherBase = try await client.execute(uri: path, method: .post, headers: auth, body: ByteBuffer(string: #"{"scenarioId": "\#(elsewhere._id)"}"#))
            #expect(otherBase.status == .unprocessableContent && String(buffer: otherBase.body).contains("another database"))
            #expect(try await client.execute(uri: path, method: .post, headers: auth, body: ByteBuffer(string: #"{"scenarioId": "nope"}"#)).status == .notFound)
            let entered = try await client.execute(uri: path, method: .post, headers: auth,
                                                   body: ByteBuffer(string: #"{"scenarioId": "\#(welcome._id)", "data": {"coupon": "WELCOME-1"}}"#))
            #expect(entered.status == .accepted)
            let entryId = try #require(try jsonObject(entered)["entryId"] as? String)

            let consumer = try await amqp.consume(queue: queue, prefetch: 10)
            var iterator = consumer.makeAsyncIterator()
            let delivery = try #require(try await iterator.next())
            delivery.ack()
            let entry = try Herald_Events_V1_ScenarioEntry(serializedBytes: delivery.body)
            #expect(entry.scenarioID == welcome._id && entry.scenarioVersion == 3 && entry.profile.profileID == ilya._id && entry.profile.databaseID == db)
            #expect(entry.meta.eventID == entryId && entry.requestedBy.isEmpty == false && entry.dataJson == #"{"coupon":"WELCOME-1"}"#)
            let timeline = try await harness.panel.customers.profiles.timeline(of: ilya)
            #expect(timeline.contains { $0.kind == "scenario.requested" && $0.properties["scenario"]?.stringValue == "Welcome series" })

            // The card's button: only the active scenario of this database is offered.
            let card = try await browser.get("/databases/\(db)/profiles/\(ilya._id)")
            #expect(card.body.contains("id=\"scenario-form\"") && card.body.contains("Welcome series") && !card.body.contains("Winback") && !card.body.contains("Other base"))
            let clicked = try await browser.post("/databases/\(db)/profiles/\(ilya._id)/scenarios", [("scenario", welcome._id)])
            #expect(clicked.location?.contains("notice=saved") == true)
            let second = try #require(try await iterator.next())
            second.ack()
            #expect(try Herald_Events_V1_ScenarioEntry(serializedBytes: second.body).requestedBy == "admin@alpha.test")
            consumer.cancel()
            await amqp.close()
        }
    }
}
