import BSON
import ControlPanel
import CustomerData
import Foundation
import HeraldTesting
import Hummingbird
import HummingbirdTesting
import Testing

/// Templates through the API: versions, fragments and where they are used, errors with their
/// place, an SMS's length, a preview as a profile with an SQL data source of a real PostgreSQL.
@Suite struct TemplatesTests {
    static func token(_ harness: PanelHarness) async throws -> HTTPFields {
        let admin = try await harness.identity("admin@alpha.test", PanelHarness.adminPassword)
        let (_, token) = try await harness.panel.administration.createToken(name: "tpl", scopes: [
            "databases:view", "databases:create", "profiles:view", "profiles:create", "profiles:edit",
            "templates:view", "templates:create", "templates:edit", "templates:delete",
        ], expiresInDays: nil, by: admin)
        return [.authorization: "Bearer \(token)", .contentType: "application/json"]
    }

    @Test func aTemplateKeepsItsVersionsAndFragmentsKnowWhereTheyAreUsed() async throws {
        try await PanelHarness.with { harness, client in
            let auth = try await Self.token(harness)
            let fragment = try await client.execute(uri: "/api/v1/fragments", method: .post, headers: auth,
                                                    body: ByteBuffer(string: #"{"key": "footer", "title": "Footer", "source": "<p>Shop Ltd · {{ profile.email }}</p>"}"#))
            #expect(fragment.status == .created)
            let fragmentId = try #require(try jsonObject(fragment)["id"] as? String)
            let badFragment = try await client.execute(uri: "/api/v1/fragments", method: .post, headers: auth,
                                                       body: ByteBuffer(string: #"{"key": "broken", "source": "{% if %}"}"#))
            #expect(badFragment.status == .unprocessableContent && String(buffer: badFragment.body).contains("broken:1:"))

            // A template whose parts do not compile is refused with every error's part and place.
            let wrong = try await client.execute(uri: "/api/v1/templates", method: .post, headers: auth, body: ByteBuffer(string: #"""
                {"name": "Bad", "channel": "email", "content": {"subject": "Hi {{ profile.name", "html": "<p>ok</p>\n{% for %}"}}
                """#))
            #expect(wrong.status == .unprocessableContent)
            let wrongText = String(buffer: wrong.body)
            #expect(wrongText.contains("subject:1:") && wrongText.contains("html:2:"))

            let created = try await client.execute(uri: "/api/v1/templates", method: .post, headers: auth, body: ByteBuffer(string: #"""
                {"name": "Welcome", "channel": "email", "content": {"subject": "Hi {{ profile.first_name }}", "html": "<h1>Hi</h1>{% include \"footer\" %}"}}
                """#))
            #expect(created.status == .created, "\(String(buffer: created.body))")
            let template = try jsonObject(created)
            let id = try #require(template["id"] as? String)
            #expect(template["version"] as? Int == 1)
            let saved = try jsonObject(try await client.execute(uri: "/api/v1/templates/\(id)", method: .put, headers: auth, body: ByteBuffer(string: #"""
                {"content": {"subject": "Hello {{ profile.first_name }}", "html": "<h1>Hello</h1>{% include \"footer\" %}"}}
                """#)))
            #expect(saved["version"] as? Int == 2)
            // Saving the same content again makes no new version.
            let same = try jsonObject(try await client.execute(uri: "/api/v1/templates/\(id)", method: .put, headers: auth, body: ByteBuffer(string: #"""
                {"name": "Welcome mail", "content": {"subject": "Hello {{ profile.first_name }}", "html": "<h1>Hello</h1>{% include \"footer\" %}"}}
                """#)))
            #expect(same["version"] as? Int == 2 && same["name"] as? String == "Welcome mail")
            let versions = try jsonObject(try await client.execute(uri: "/api/v1/templates/\(id)/versions", method: .get, headers: auth))["items"] as? [[String: Any]]
            #expect(versions?.compactMap { $0["number"] as? Int } == [2, 1])
            let first = try jsonObject(try await client.execute(uri: "/api/v1/templates/\(id)/versions/1", method: .get, headers: auth))
            #expect((first["content"] as? [String: Any])?["subject"] as? String == "Hi {{ profile.first_name }}")

            // The fragment knows its user and cannot be deleted while used.
            let usage = try jsonObject(try await client.execute(uri: "/api/v1/fragments/\(fragmentId)", method: .get, headers: auth))
            #expect(usage["usedBy"] as? [String] == ["template:\(id)"])
            let refused = try await client.execute(uri: "/api/v1/fragments/\(fragmentId)", method: .delete, headers: auth)
            #expect(refused.status == .unprocessableContent && String(buffer: refused.body).contains("Welcome mail"))

            // Checks as the writer types: errors at their place, and an SMS's length (Cyrillic is UCS-2).
            let check = try jsonObject(try await client.execute(uri: "/api/v1/templates/check", method: .post, headers: auth, body: ByteBuffer(string: #"""
                {"channel": "sms", "content": {"body": "Привет, {{ profile.first_name }}! Скидка 20% до воскресенья на лыжи, санки и всё для зимы. Ждём вас в магазине."}}
                """#)))
            let sms = try #require(check["sms"] as? [String: Any])
            #expect((check["errors"] as? [Any])?.isEmpty == true && sms["encoding"] as? String == "UCS-2" && sms["segments"] as? Int == 2 && sms["perSegment"] as? Int == 67)
            let broken = try jsonObject(try await client.execute(uri: "/api/v1/templates/check", method: .post, headers: auth,
                                                                body: ByteBuffer(string: #"{"channel": "sms", "content": {"body": "line one\n{{ profile.x | nosuchfilter }}"}}"#)))
            let error = try #require((broken["errors"] as? [[String: Any]])?.first)
            #expect(error["part"] as? String == "body" && error["line"] as? Int == 2 && (error["message"] as? String)?.contains("^") == true)

            #expect(try await harness.auditActions().contains("template.save"))
        }
    }

    @Test func aPreviewRendersAsAProfileWithAnSQLSource() async throws {
        let postgres = try await PostgresServer()
        do {
            try await postgres.execute("CREATE TABLE recs (email text, title text); INSERT INTO recs VALUES ('anna@x.io', 'Skis'), ('anna@x.io', 'Poles'), ('bob@x.io', 'Sled');")
            try await PanelHarness.with { harness, client in
                let auth = try await Self.token(harness)
                let db = try #require(try jsonObject(try await client.execute(uri: "/api/v1/databases", method: .post, headers: auth, body: ByteBuffer(string: #"""
                    {"name": "Shop", "fields": [{"key": "email", "type": "email", "unique": true}, {"key": "first_name", "type": "string"}]}
                    """#)))["id"] as? String)
                _ = try await client.execute(uri: "/api/v1/databases/\(db)/profiles/bulk", method: .post, headers: auth,
                                             body: ByteBuffer(string: #"{"profiles": [{"fields": {"email": "anna@x.io", "first_name": "Анна"}}]}"#))
                let database = try #require(try await harness.panel.customers.databases.findOne(["_id": .string(db)]))
                let anna = try #require(try await harness.panel.customers.profiles.list(database, search: "anna@x.io").first)
                let source = try await client.execute(uri: "/api/v1/data-sources", method: .post, headers: auth, body: ByteBuffer(string: #"""
                    {"name": "recs", "kind": "sql", "url": "\#(postgres.url)", "query": "SELECT title FROM recs WHERE email = $1 ORDER BY title", "parameters": ["email"], "fallback": "[]"}
                    """#))
                #expect(source.status == .created, "\(String(buffer: source.body))")
                let wrongSource = try await client.execute(uri: "/api/v1/data-sources", method: .post, headers: auth,
                                                           body: ByteBuffer(string: #"{"name": "profile", "kind": "http", "url": "https://x.example"}"#))
                #expect(wrongSource.status == .unprocessableContent && String(buffer: wrongSource.body).contains("\"field\":\"name\""))

                let template = try jsonObject(try await client.execute(uri: "/api/v1/templates", method: .post, headers: auth, body: ByteBuffer(string: #"""
                    {"name": "Recs", "channel": "sms", "databaseId": "\#(db)", "content": {"body": "{{ profile.first_name }}: {% for r in recs %}{{ r.title }} {% endfor %}{{ message.unsubscribe_url }}"}}
                    """#)))
                let id = try #require(template["id"] as? String)
                let preview = try jsonObject(try await client.execute(uri: "/api/v1/templates/\(id)/preview", method: .post, headers: auth, body: ByteBuffer(string: #"""
                    {"content": {"body": "{{ profile.first_name }}: {% for r in recs %}{{ r.title }} {% endfor %}"}, "profileId": "\#(anna._id)"}
                    """#)))
                #expect((preview["parts"] as? [String: String])?["body"] == "Анна: Poles Skis " && preview["profile"] as? String == "Анна")

                // The test send says plainly that no sender is set up yet.
                let browser = Browser(client)
                _ = try await browser.logIn("admin@alpha.test", PanelHarness.adminPassword)
                let page = try await browser.get("/templates/\(id)")
                #expect(page.body.contains("id=\"sms-count\"") && page.body.contains("/static/herald/template-editor.js"))
                let test = try await browser.post("/templates/\(id)/test", [("to", "+4790000000")])
                #expect(test.status == .conflict && test.body.contains("SMS"))
            }
        } catch {
            await postgres.stop()
            throw error
        }
        await postgres.stop()
    }
}
