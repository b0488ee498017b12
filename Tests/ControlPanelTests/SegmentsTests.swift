import BSON
import ControlPanel
import CustomerData
import Foundation
import HeraldTesting
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct SegmentsTests {
    @Test func dynamicSegmentsFollowTheProfilesAndAFrozenOneStaysFixed() async throws {
        try await PanelHarness.with { harness, client in
            let admin = try await harness.identity("admin@alpha.test", PanelHarness.adminPassword)
            let (_, token) = try await harness.panel.administration.createToken(name: "seg", scopes: [
                "databases:view", "databases:create", "profiles:view", "profiles:create", "profiles:edit", "segments:view", "segments:create", "segments:edit",
            ], expiresInDays: nil, by: admin)
            let auth: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
            let db = try #require(try jsonObject(try await client.execute(uri: "/api/v1/databases", method: .post, headers: auth, body: ByteBuffer(string: #"""
                {"name": "Seg", "fields": [{"key": "email", "type": "email", "unique": true}, {"key": "city", "type": "string"}, {"key": "age", "type": "integer"}]}
                """#)))["id"] as? String)
            let rows = (1...30).map { i in
                #"{"fields": {"email": "p\#(i)@x.io", "city": "\#(i % 3 == 0 ? "Oslo" : "Perm")", "age": \#(18 + i)}, "subscriptions": [{"channel": "email", "address": "p\#(i)@x.io", "status": "\#(i % 2 == 0 ? "active" : "unsubscribed")"}]}"#
            }.joined(separator: ",")
            _ = try await client.execute(uri: "/api/v1/databases/\(db)/profiles/bulk", method: .post, headers: auth, body: ByteBuffer(string: #"{"profiles": [\#(rows)]}"#))

            let wrong = try await client.execute(uri: "/api/v1/databases/\(db)/segments", method: .post, headers: auth, body: ByteBuffer(string: #"""
                {"name": "Bad", "rule": {"all": [{"field": "shoe", "op": "eq", "value": 1}]}}
                """#))
            #expect(wrong.status == .unprocessableContent)
            #expect(String(buffer: wrong.body).contains(#""field":"rule.all[0]""#))

            let created = try await client.execute(uri: "/api/v1/databases/\(db)/segments", method: .post, headers: auth, body: ByteBuffer(string: #"""
                {"name": "Oslo readers", "rule": {"all": [{"field": "city", "op": "eq", "value": "Oslo"}, {"subscription": {"channel": "email", "status": "active"}}]}}
                """#))
            #expect(created.status == .created)
            let segment = try jsonObject(created)
            let sid = try #require(segment["id"] as? String)
            #expect(segment["count"] as? Int == 5)  // i in 6, 12, 18, 24, 30
            let sample = try jsonObject(try await client.execute(uri: "/api/v1/segments/\(sid)/profiles?limit=100", method: .get, headers: auth))
            #expect((sample["items"] as? [[String: Any]])?.count == 5)

            let frozen = try jsonObject(try await client.execute(uri: "/api/v1/segments/\(sid)/freeze", method: .post, headers: auth,
                                                                body: ByteBuffer(string: #"{"name": "Oslo readers, November"}"#)))
            let fid = try #require(frozen["id"] as? String)
            #expect(frozen["kind"] as? String == "fixed" && frozen["count"] as? Int == 5)

            // Two more profiles move to Oslo: the dynamic segment follows, the frozen one does not.
            _ = try await client.execute(uri: "/api/v1/databases/\(db)/profiles/bulk", method: .post, headers: auth,
                                         body: ByteBuffer(string: #"{"profiles": [{"fields": {"email": "p2@x.io", "city": "Oslo"}}, {"fields": {"email": "p4@x.io", "city": "Oslo"}}]}"#))
            #expect(try jsonObject(try await client.execute(uri: "/api/v1/segments/\(sid)", method: .get, headers: auth))["count"] as? Int == 7)
            #expect(try jsonObject(try await client.execute(uri: "/api/v1/segments/\(fid)", method: .get, headers: auth))["count"] as? Int == 5)

            // A profile added to the fixed segment from its card.
            let database = try #require(try await harness.panel.customers.databases.findOne(["_id": .string(db)]))
            let p1 = try #require(try await harness.panel.customers.profiles.list(database, search: "p1@x.io").first)
            let browser = Browser(client)
            _ = try await browser.logIn("admin@alpha.test", PanelHarness.adminPassword)
            let card = try await browser.get("/databases/\(db)/profiles/\(p1._id)")
            #expect(card.body.contains("id=\"segment-add-form\""))
            #expect(try await browser.post("/databases/\(db)/profiles/\(p1._id)/segments", [("segment", fid)]).location?.hasSuffix("notice=saved") == true)
            #expect(try await browser.get("/databases/\(db)/profiles/\(p1._id)").body.contains("Oslo readers, November</a>"))
            #expect(try jsonObject(try await client.execute(uri: "/api/v1/segments/\(fid)", method: .get, headers: auth))["count"] as? Int == 6)
            let page = try await browser.get("/databases/\(db)/segments/\(sid)")
            #expect(page.body.contains("<strong>7</strong>"))
            let actions = try await harness.auditActions()
            #expect(actions.contains("segment.create") && actions.contains("segment.freeze") && actions.contains("segment.add"))
        }
    }
}
