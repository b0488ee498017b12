import BSON
import ControlPanel
import CustomerData
import Foundation
import HeraldTesting
import Hummingbird
import HummingbirdTesting
import Testing

/// The events API through the real broker to the activity writer.
@Suite struct EventsTests {
    @Test func eventsReachTheProfilesTimelinesAndUnknownCustomersGetAProfile() async throws {
        try await PanelHarness.with(imports: true) { harness, client in
            let auth = try await ImportTests.token(harness)
            let id = try await ImportTests.database(harness, client, auth: auth)
            var json = auth
            json[.contentType] = "application/json"
            let known = try await client.execute(uri: "/api/v1/databases/\(id)/profiles", method: .post, headers: json,
                                                 body: ByteBuffer(string: #"{"fields": {"email": "anna@example.com"}}"#))
            let annaId = try #require(try JSONSerialization.jsonObject(with: Data(buffer: known.body)) as? [String: Any])["id"] as? String
            let body = #"""
            {"databaseId": "\#(id)", "source": "shop", "events": [
              {"profile": {"email": "ANNA@example.com"}, "kind": "order.paid", "at": "2024-05-01T10:00:00Z", "properties": {"sum": 99.5, "items": ["A-1", "B-2"], "coupon": null}},
              {"profile": {"id": "\#(annaId!)"}, "kind": "app.opened"},
              {"profile": {"email": "new@example.com"}, "kind": "site.visit", "properties": {"url": "/pricing"}},
              {"profile": {"email": "not-an-email"}, "kind": "order.paid"},
              {"profile": {"city": "Oslo"}, "kind": "order.paid"},
              {"profile": {"email": "anna@example.com"}, "kind": "Order Paid"}
            ]}
            """#
            let response = try await client.execute(uri: "/api/v1/events", method: .post, headers: json, body: ByteBuffer(string: body))
            #expect(response.status == .accepted)
            let answer = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
            #expect(answer["accepted"] as? Int == 3)
            let rejected = try #require(answer["rejected"] as? [[String: Any]])
            #expect(rejected.map { $0["index"] as? Int } == [3, 4, 5])
            #expect(rejected[0]["reason"] as? String == "profile.email: 'not-an-email' is not an e-mail address")
            #expect((rejected[1]["reason"] as? String)?.hasPrefix("profile.city: not an identifier of this database") == true)
            // The writer runs behind the bus: wait for the timeline.
            let database = try #require(try await harness.panel.customers.databases.findOne(["_id": .string(id)]))
            var timeline: [ActivityEvent] = []
            for _ in 0..<200 {
                if let anna = try await harness.panel.customers.profiles.profile(annaId!, in: database) {
                    timeline = try await harness.panel.customers.profiles.timeline(of: anna)
                    if timeline.count >= 3 { break }
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            let kinds = timeline.map(\.kind)
            #expect(kinds.contains("order.paid") && kinds.contains("app.opened"), "\(kinds)")
            let paid = try #require(timeline.first { $0.kind == "order.paid" })
            #expect(paid.source == "shop")
            #expect(paid.at == Date(timeIntervalSince1970: 1_714_557_600))
            #expect(paid.properties.isEquivalent(to: ["coupon": .null, "items": ["A-1", "B-2"], "sum": .double(99.5)]))
            // A customer nobody knew has a profile now, with the visit on it.
            var newcomer: Profile?
            for _ in 0..<200 where newcomer == nil {
                newcomer = try await harness.panel.customers.profiles.list(database, search: "new@example.com").first
                if newcomer == nil { try await Task.sleep(for: .milliseconds(50)) }
            }
            let visits = try await harness.panel.customers.profiles.timeline(of: try #require(newcomer), group: "site")
            #expect(visits.map(\.kind) == ["site.visit"])
        }
    }
}
