import BSON
import ControlPanel
import CustomerData
import Foundation
import HeraldTesting
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct CustomerDataPanelTests {
    static func token(_ harness: PanelHarness, scopes: [String]) async throws -> HTTPFields {
        let admin = try await harness.identity("admin@alpha.test", PanelHarness.adminPassword)
        let (_, token) = try await harness.panel.administration.createToken(name: "t", scopes: scopes, expiresInDays: nil, by: admin)
        return [.authorization: "Bearer \(token)", .contentType: "application/json"]
    }

    @Test func aDatabaseItsSchemaAndAProfileCardInThePanel() async throws {
        try await PanelHarness.with { harness, client in
            let browser = Browser(client)
            _ = try await browser.logIn("admin@alpha.test", PanelHarness.adminPassword)
            _ = try await browser.get("/databases")
            let created = try await browser.post("/databases", [("name", "Shop customers"), ("description", "from the web shop")])
            let schemaPath = try #require(created.location)
            let id = String(schemaPath.dropFirst("/databases/".count))
            _ = try await browser.get(schemaPath)
            #expect(try await browser.post("\(schemaPath)/fields", [("key", "level"), ("title", "Loyalty level"), ("type", "enum"), ("options", "silver\ngold")])
                .location == "\(schemaPath)?notice=saved")
            _ = try await browser.get(schemaPath)
            #expect(try await browser.post("\(schemaPath)/fields", [("key", "orders"), ("title", "Orders"), ("type", "table"), ("columns", "sku: string\nsum: decimal")])
                .location == "\(schemaPath)?notice=saved")
            _ = try await browser.get(schemaPath)
            let bad = try await browser.post("\(schemaPath)/fields", [("key", "Level 2"), ("title", "x"), ("type", "string")])
            #expect(bad.status == .unprocessableContent && bad.body.contains("lower-case letters"))
            let schema = try await browser.get(schemaPath)
            #expect(schema.body.contains("<code>level</code>") && schema.body.contains("silver, gold"))

            _ = try await browser.get("/databases/\(id)/profiles")
            let made = try await browser.post("/databases/\(id)/profiles", [("f_email", "Anna@Example.com"), ("f_first_name", "Anna"), ("f_level", "gold")])
            let cardPath = try #require(made.location)
            let card = try await browser.get(cardPath)
            #expect(card.status == .ok && card.body.contains("id=\"profile-title\">Anna<"))
            #expect(card.body.contains("value=\"anna@example.com\""))
            // Bad input is refused with the field and the reason; good input is saved and shows in the timeline.
            let wrong = try await browser.post(cardPath, [("f_email", "anna@"), ("f_first_name", "Anna"), ("f_level", "gold")])
            #expect(wrong.status == .unprocessableContent && wrong.body.contains("email: &#39;anna@&#39; is not an e-mail address") || wrong.body.contains("is not an e-mail address"))
            _ = try await browser.get(cardPath)
            #expect(try await browser.post(cardPath, [("f_email", "anna@example.com"), ("f_first_name", "Anna"), ("f_level", "silver"),
                                                       ("f_orders", #"[{"sku":"A-1","sum":"19,90"}]"#)]).location == "\(cardPath)?notice=saved")
            _ = try await browser.get(cardPath)
            #expect(try await browser.post("\(cardPath)/subscriptions", [("channel", "email"), ("status", "active"), ("address", "Anna.Work@Example.com"), ("resource", "news")])
                .location == "\(cardPath)?notice=saved")
            let after = try await browser.get(cardPath)
            #expect(after.body.contains("anna.work@example.com"))
            #expect(after.body.contains("<code>profile.updated</code>") && after.body.contains("<code>profile.created</code>"))
            #expect(after.body.contains("[{&quot;sku&quot;:&quot;A-1&quot;,&quot;sum&quot;:19.9}]"))

            // A relation shows on both cards.
            _ = try await browser.get("/databases/\(id)/profiles")
            let bobPath = try #require(try await browser.post("/databases/\(id)/profiles", [("f_email", "bob@example.com"), ("f_first_name", "Bob")]).location)
            let bobId = String(bobPath.split(separator: "/").last!)
            _ = try await browser.get(cardPath)
            #expect(try await browser.post("\(cardPath)/relations", [("kind", "family"), ("toId", bobId)]).location == "\(cardPath)?notice=saved")
            #expect(try await browser.get(bobPath).body.contains("family ← <a href=\"\(cardPath)\">Anna</a>"))

            let actions = try await harness.auditActions()
            for action in ["database.create", "database.field_add", "profile.create", "profile.view", "profile.update", "profile.relate"] {
                #expect(actions.contains(action), "\(action)")
            }
        }
    }

    @Test func everyFieldTypeRoundTripsThroughTheAPI() async throws {
        try await PanelHarness.with { harness, client in
            let auth = try await Self.token(harness, scopes: ["databases:view", "databases:create", "profiles:view", "profiles:create", "profiles:edit"])
            let schema = #"""
            {"name": "All types", "fields": [
              {"key": "email", "type": "email", "unique": true}, {"key": "phone", "type": "phone", "unique": true},
              {"key": "nick", "type": "string"}, {"key": "age", "type": "integer"}, {"key": "balance", "type": "decimal"},
              {"key": "vip", "type": "boolean"}, {"key": "born", "type": "date"}, {"key": "seen", "type": "date_time"},
              {"key": "tier", "type": "enum", "options": ["basic", "pro"]}, {"key": "tags", "type": "string_list"},
              {"key": "orders", "type": "table", "columns": [{"key": "sku", "type": "string", "required": true}, {"key": "qty", "type": "integer"}, {"key": "at", "type": "date"}]}]}
            """#
            let created = try await client.execute(uri: "/api/v1/databases", method: .post, headers: auth, body: ByteBuffer(string: schema))
            #expect(created.status == .created)
            let id = try #require(try jsonObject(created)["id"] as? String)
            let profile = #"""
            {"fields": {"email": "ANNA@example.com", "phone": "+7 912 345-67-89", "nick": " anna ", "age": "42", "balance": "1 234,50", "vip": "yes",
              "born": "01.03.1982", "seen": "2024-03-01T09:30:00+03:00", "tier": "PRO", "tags": "ski; tennis",
              "orders": [{"sku": "A-1", "qty": 2, "at": "2024-02-29"}]},
             "subscriptions": [{"channel": "email", "address": "anna@example.com"}, {"channel": "sms", "address": "+79123456789", "status": "unsubscribed"}]}
            """#
            let upserted = try await client.execute(uri: "/api/v1/databases/\(id)/profiles", method: .post, headers: auth, body: ByteBuffer(string: profile))
            #expect(upserted.status == .created)
            let pid = try #require(try jsonObject(upserted)["id"] as? String)
            let read = try await client.execute(uri: "/api/v1/databases/\(id)/profiles/\(pid)", method: .get, headers: auth)
            let fields = try #require(try jsonObject(read)["fields"] as? [String: Any])
            #expect(fields["email"] as? String == "anna@example.com")
            #expect(fields["phone"] as? String == "+79123456789")
            #expect(fields["nick"] as? String == "anna")
            #expect(fields["age"] as? Int == 42)
            #expect(fields["balance"] as? Double == 1234.5)
            #expect(fields["vip"] as? Bool == true)
            #expect(fields["born"] as? String == "1982-03-01")
            #expect(fields["seen"] as? String == "2024-03-01T06:30:00Z")
            #expect(fields["tier"] as? String == "pro")
            #expect(fields["tags"] as? [String] == ["ski", "tennis"])
            let orders = try #require(fields["orders"] as? [[String: Any]])
            #expect(orders.count == 1 && orders[0]["sku"] as? String == "A-1" && orders[0]["qty"] as? Int == 2 && orders[0]["at"] as? String == "2024-02-29")
            let subscriptions = try #require(try jsonObject(read)["subscriptions"] as? [[String: Any]])
            #expect(subscriptions.map { $0["status"] as? String } == ["active", "unsubscribed"])
            // A wrong value is a 422 that names the field.
            let wrong = try await client.execute(uri: "/api/v1/databases/\(id)/profiles", method: .post, headers: auth,
                                                 body: ByteBuffer(string: #"{"fields": {"email": "b@example.com", "orders": [{"qty": 1}]}}"#))
            #expect(wrong.status == .unprocessableContent)
            #expect(String(buffer: wrong.body).contains("orders[1].sku: a value is required"))
        }
    }

    @Test func bulkUpsertOfTenThousandWritesTheGoodRowsAndReportsEveryBadOne() async throws {
        try await PanelHarness.with { harness, client in
            let auth = try await Self.token(harness, scopes: ["databases:view", "databases:create", "profiles:view", "profiles:create", "profiles:edit"])
            let created = try await client.execute(uri: "/api/v1/databases", method: .post, headers: auth, body: ByteBuffer(string: #"{"name": "Bulk"}"#))
            let id = try #require(try jsonObject(created)["id"] as? String)
            var rows: [String] = []
            for i in 0..<10_000 {
                let email = i % 20 == 7 ? "broken-\(i)@" : "c\(i)@example.com"
                rows.append(#"{"fields": {"email": "\#(email)", "first_name": "C\#(i)", "external_id": "X\#(i)"}}"#)
            }
            let body = ByteBuffer(string: #"{"mode": "upsert", "profiles": [\#(rows.joined(separator: ","))]}"#)
            let response = try await client.execute(uri: "/api/v1/databases/\(id)/profiles/bulk", method: .post, headers: auth, body: body)
            #expect(response.status == .ok)
            let answer = try jsonObject(response)
            #expect(answer["created"] as? Int == 9500)
            #expect(answer["rejected"] as? Int == 500)
            let results = try #require(answer["results"] as? [[String: Any]])
            #expect(results[7]["result"] as? String == "rejected")
            #expect(results[7]["reason"] as? String == "email: 'broken-7@' is not an e-mail address")
            #expect(results[8]["result"] as? String == "created")
            #expect(try await harness.panel.customers.profiles.count(try await harness.panel.customers.databases.findOne(["_id": .string(id)])!) == 9500)
            // The same customers again, known now by external id only, with a change: updated, not duplicated.
            let again = (0..<100).map { #"{"fields": {"external_id": "X\#($0)", "last_name": "Again"}}"# }.joined(separator: ",")
            let second = try jsonObject(try await client.execute(uri: "/api/v1/databases/\(id)/profiles/bulk", method: .post, headers: auth,
                                                               body: ByteBuffer(string: #"{"profiles": [\#(again)]}"#)))
            #expect(second["updated"] as? Int == 95 && second["created"] as? Int == 5)
            let tooMany = try await client.execute(uri: "/api/v1/databases/\(id)/profiles/bulk", method: .post, headers: auth, body: ByteBuffer(string: #"{"profiles": []}"#))
            #expect(tooMany.status == .unprocessableContent)
        }
    }

    @Test func aTypeChangeIsCheckedAgainstEveryStoredValueBeforeItApplies() async throws {
        try await PanelHarness.with { harness, client in
            let auth = try await Self.token(harness, scopes: ["databases:view", "databases:create", "databases:edit", "profiles:view", "profiles:create", "profiles:edit"])
            let id = try #require(try jsonObject(try await client.execute(uri: "/api/v1/databases", method: .post, headers: auth,
                                                                          body: ByteBuffer(string: #"{"name": "Scores"}"#)))["id"] as? String)
            _ = try await client.execute(uri: "/api/v1/databases/\(id)/fields", method: .post, headers: auth, body: ByteBuffer(string: #"{"key": "score", "title": "Score", "type": "string"}"#))
            let rows = [("a", "5"), ("b", "7"), ("c", "lots")].map { #"{"fields": {"email": "\#($0.0)@x.io", "score": "\#($0.1)"}}"# }.joined(separator: ",")
            _ = try await client.execute(uri: "/api/v1/databases/\(id)/profiles/bulk", method: .post, headers: auth, body: ByteBuffer(string: #"{"profiles": [\#(rows)]}"#))
            let change = ByteBuffer(string: #"{"title": "Score", "type": "integer"}"#)
            let refused = try await client.execute(uri: "/api/v1/databases/\(id)/fields/score", method: .put, headers: auth, body: change)
            #expect(refused.status == .unprocessableContent)
            #expect(String(buffer: refused.body).contains("1 stored values do not fit the change, so nothing changed. First ones:"))
            #expect(String(buffer: refused.body).contains("'lots' is not a whole number"))
            // The schema did not change.
            let database = try #require(try await harness.panel.customers.databases.findOne(["_id": .string(id)]))
            #expect(database.field("score")?.type == .string)
            // Fix the value, then the change applies and converts the rest.
            _ = try await client.execute(uri: "/api/v1/databases/\(id)/profiles", method: .post, headers: auth, body: ByteBuffer(string: #"{"fields": {"email": "c@x.io", "score": "9"}}"#))
            #expect(try await client.execute(uri: "/api/v1/databases/\(id)/fields/score", method: .put, headers: auth, body: change).status == .ok)
            let search = try jsonObject(try await client.execute(uri: "/api/v1/databases/\(id)/profiles?search=a%40x.io", method: .get, headers: auth))
            let first = try #require((search["items"] as? [[String: Any]])?.first?["fields"] as? [String: Any])
            #expect(first["score"] as? Int == 5)
        }
    }

    @Test func anotherAccountSeesNoneOfThis() async throws {
        try await PanelHarness.with { harness, client in
            let auth = try await Self.token(harness, scopes: ["databases:view", "databases:create", "profiles:view", "profiles:create"])
            let id = try #require(try jsonObject(try await client.execute(uri: "/api/v1/databases", method: .post, headers: auth,
                                                                          body: ByteBuffer(string: #"{"name": "Private"}"#)))["id"] as? String)
            let pid = try #require(try jsonObject(try await client.execute(uri: "/api/v1/databases/\(id)/profiles", method: .post, headers: auth,
                                                                           body: ByteBuffer(string: #"{"mode": "add", "fields": {"email": "a@x.io"}}"#)))["id"] as? String)
            _ = try await harness.makeAccount("Beta", admin: "admin@beta.test", password: "Beta-Passw0rd-1")
            let beta = Browser(client)
            _ = try await beta.logIn("admin@beta.test", "Beta-Passw0rd-1")
            #expect(try await beta.get("/databases/\(id)").status == .notFound)
            #expect(try await beta.get("/databases/\(id)/profiles/\(pid)").status == .notFound)
            #expect(!(try await beta.get("/databases").body.contains("Private")))
        }
    }
}
