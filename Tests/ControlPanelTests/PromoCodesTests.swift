import ControlPanel
import CustomerData
import Foundation
import HeraldTesting
import Hummingbird
import HummingbirdTesting
import Testing

/// Promo code pools through the API and the panel, and the profile card's "Issue a promo code":
/// codes added with bad lines reported, generated, issued once each, the timeline and an empty pool.
@Suite struct PromoCodesTests {
    static func token(_ harness: PanelHarness) async throws -> HTTPFields {
        let admin = try await harness.identity("admin@alpha.test", PanelHarness.adminPassword)
        let (_, token) = try await harness.panel.administration.createToken(name: "promo", scopes: [
            "databases:view", "databases:create", "profiles:view", "profiles:create", "profiles:edit",
            "promo_codes:view", "promo_codes:create", "promo_codes:edit", "promo_codes:import",
        ], expiresInDays: nil, by: admin)
        return [.authorization: "Bearer \(token)", .contentType: "application/json"]
    }

    @Test func poolsCodesAndIssuingFromTheCard() async throws {
        try await PanelHarness.with { harness, client in
            let auth = try await Self.token(harness)
            let (database, vera) = try await harness.databaseWithProfile(client, auth: auth, name: "Shop", email: "vera@example.com")
            let db = database._id

            let unnamed = try await client.execute(uri: "/api/v1/promo-pools", method: .post, headers: auth, body: ByteBuffer(string: #"{"name": " "}"#))
            #expect(unnamed.status == .unprocessableContent && String(buffer: unnamed.body).contains("\"field\":\"name\""))
            let created = try await client.execute(uri: "/api/v1/promo-pools", method: .post, headers: auth, body: ByteBuffer(string: #"{"name": "Welcome"}"#))
            #expect(created.status == .created)
            let pool = try #require(try jsonObject(created)["id"] as? String)

            // Pasted codes: the bad one reported by its place, the repeated one counted, the rest added.
            let added = try jsonObject(try await client.execute(uri: "/api/v1/promo-pools/\(pool)/codes", method: .post, headers: auth,
                                                                body: ByteBuffer(string: #"{"codes": ["WELCOME-1", "WELCOME-2", "not a code!", "WELCOME-1"]}"#)))
            #expect(added["added"] as? Int == 2 && added["present"] as? Int == 1)
            #expect((added["rejected"] as? [[String: Any]])?.first?["index"] as? Int == 2)
            let generated = try jsonObject(try await client.execute(uri: "/api/v1/promo-pools/\(pool)/codes", method: .post, headers: auth,
                                                                    body: ByteBuffer(string: #"{"generate": {"count": 3, "prefix": "W-", "length": 6}}"#)))
            #expect(generated["generated"] as? Int == 3)
            let pools = try #require(try jsonObject(try await client.execute(uri: "/api/v1/promo-pools", method: .get, headers: auth))["items"] as? [[String: Any]])
            #expect(pools.first?["total"] as? Int == 5 && pools.first?["free"] as? Int == 5)

            // Issued: each call a different code, on the timeline and listed for the profile; an empty pool says so.
            var issued: [String] = []
            for _ in 0..<5 {
                let answer = try await client.execute(uri: "/api/v1/databases/\(db)/profiles/\(vera._id)/promo-codes", method: .post, headers: auth,
                                                      body: ByteBuffer(string: #"{"poolId": "\#(pool)"}"#))
                #expect(answer.status == .created)
                issued.append(try #require(try jsonObject(answer)["code"] as? String))
            }
            #expect(Set(issued).count == 5)
            #expect(Set(issued).isSuperset(of: ["WELCOME-1", "WELCOME-2"]) && issued.filter { $0.hasPrefix("W-") && $0.count == 8 }.count == 3)
            let empty = try await client.execute(uri: "/api/v1/databases/\(db)/profiles/\(vera._id)/promo-codes", method: .post, headers: auth,
                                                 body: ByteBuffer(string: #"{"poolId": "\#(pool)"}"#))
            #expect(empty.status == .unprocessableContent && String(buffer: empty.body).contains("no free codes left"))
            let unknown = try await client.execute(uri: "/api/v1/databases/\(db)/profiles/\(vera._id)/promo-codes", method: .post, headers: auth,
                                                   body: ByteBuffer(string: #"{"poolId": "nope"}"#))
            #expect(unknown.status == .notFound)
            let listed = try #require(try jsonObject(try await client.execute(uri: "/api/v1/databases/\(db)/profiles/\(vera._id)/promo-codes", method: .get,
                                                                              headers: auth))["items"] as? [[String: Any]])
            #expect(Set(listed.compactMap { $0["code"] as? String }) == Set(issued))
            let timeline = try await harness.panel.customers.profiles.timeline(of: vera)
            #expect(Set(timeline.filter { $0.kind == "promo.issued" }.compactMap { $0.properties["code"]?.stringValue }) == Set(issued))

            // The panel: the pools page, and the card's button with a new pool.
            let browser = Browser(client)
            _ = try await browser.logIn("admin@alpha.test", PanelHarness.adminPassword)
            _ = try await browser.get("/promo-codes")
            _ = try await browser.post("/promo-codes", [("name", "Birthday")])
            let page = try await browser.get("/promo-codes")
            #expect(page.body.contains("Welcome") && page.body.contains("Birthday"))
            let birthday = try #require(try await harness.panel.promoCodes.pools.findOne(["name": "Birthday"]))
            // A form's textarea sends its lines with CRLF.
            let filled = try await browser.post("/promo-codes/\(birthday._id)/codes", [("codes", "BDAY-77\r\nBDAY-77\r\n\r\nno!")])
            #expect(filled.body.contains("1 codes added, 1 already in the pool, 1 lines refused.") && filled.body.contains("line 4:"))
            let card = try await browser.get("/databases/\(db)/profiles/\(vera._id)")
            #expect(card.body.contains("id=\"promo-issue-form\"") && card.body.contains("WELCOME-1"))
            let clicked = try await browser.post("/databases/\(db)/profiles/\(vera._id)/promo-codes", [("pool", birthday._id)])
            #expect(clicked.location?.contains("notice=saved") == true)
            let after = try await browser.get("/databases/\(db)/profiles/\(vera._id)")
            #expect(after.body.contains("BDAY-77"))
        }
    }
}
