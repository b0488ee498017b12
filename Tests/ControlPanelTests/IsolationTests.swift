import ControlPanel
import Foundation
import HeraldTesting
import Hummingbird
import Security
import HummingbirdTesting
import Testing

/// Nothing of one account is visible to or changeable by another, by guessing ids, in the panel or the API.
@Suite struct IsolationTests {
    @Test func accountAReachesNoneOfAccountBsObjects() async throws {
        try await PanelHarness.with { harness, client in
            let (beta, _) = try await harness.makeAccount("Beta", admin: "admin@beta.test", password: "Beta-Passw0rd-1")
            let betaAdmin = try await harness.identity("admin@beta.test", "Beta-Passw0rd-1")
            let (betaUser, _) = try await harness.panel.administration.createUser(.init(login: "bob@beta.test", name: "Bob", password: "Quiet-River-88"), by: betaAdmin)
            let betaRole = try await harness.panel.administration.saveRole(nil, name: "Beta role", description: "", permissions: ["reports:view"], by: betaAdmin)
            let betaGroup = try await harness.panel.administration.saveGroup(nil, name: "Beta group", description: "", roleIds: [betaRole._id], by: betaAdmin)
            let (betaToken, _) = try await harness.panel.administration.createToken(name: "beta", scopes: ["users:view"], expiresInDays: nil, by: betaAdmin)
            let betaTemplate = try await harness.panel.templates.create(name: "Beta mail", channel: .sms, databaseId: nil, content: .init(body: "Hi"), by: betaAdmin)
            let betaFragment = try await harness.panel.templates.saveFragment(nil, key: "beta-footer", title: "Footer", source: "Beta", by: betaAdmin)

            let alpha = try await harness.identity("admin@alpha.test", PanelHarness.adminPassword)
            let (_, alphaToken) = try await harness.panel.administration.createToken(
                name: "alpha", scopes: Permission.all.map(\.description), expiresInDays: nil, by: alpha)

            // Panel: pages and forms of B's objects are 404 for A's administrator, and change nothing.
            let browser = Browser(client)
            _ = try await browser.logIn("admin@alpha.test", PanelHarness.adminPassword)
            for path in ["/settings/users/\(betaUser._id)", "/settings/roles/\(betaRole._id)", "/settings/groups/\(betaGroup._id)",
                         "/templates/\(betaTemplate._id)", "/templates/\(betaTemplate._id)/versions/1", "/templates/fragments/\(betaFragment._id)"] {
                #expect(try await browser.get(path).status == .notFound, "\(path)")
            }
            let listing = try await browser.get("/settings/users")
            #expect(!listing.body.contains("bob@beta.test"))
            for (path, fields) in [("/settings/users/\(betaUser._id)", [("name", "Hacked"), ("active", "")]),
                                   ("/settings/users/\(betaUser._id)/delete", []), ("/settings/users/\(betaUser._id)/reset-password", []),
                                   ("/settings/roles/\(betaRole._id)", [("name", "Hacked"), ("permissions", "users:view")]),
                                   ("/settings/roles/\(betaRole._id)/delete", []), ("/settings/groups/\(betaGroup._id)/delete", []),
                                   ("/settings/tokens/\(betaToken._id)/revoke", []), ("/templates/\(betaTemplate._id)", [("body", "Hacked")]),
                                   ("/templates/\(betaTemplate._id)/delete", []), ("/templates/fragments/\(betaFragment._id)", [("key", "x"), ("source", "Hacked")])]
                as [(String, [(String, String)])]
            {
                _ = try await browser.get("/")
                #expect(try await browser.post(path, fields).status == .notFound, "POST \(path)")
            }
            // A's user cannot be put into B's group or given B's role.
            _ = try await browser.get("/settings/users")
            let foreign = try await browser.post("/settings/users", [("login", "x@alpha.test"), ("groupIds", betaGroup._id)])
            #expect(foreign.status == .unprocessableContent)

            // API: the same ids are 404 with A's all-scopes token.
            let auth: HTTPFields = [.authorization: "Bearer \(alphaToken)", .contentType: "application/json"]
            for (method, path, body) in [
                (HTTPRequest.Method.get, "/api/v1/users/\(betaUser._id)", nil), (.patch, "/api/v1/users/\(betaUser._id)", #"{"name":"Hacked"}"#),
                (.delete, "/api/v1/users/\(betaUser._id)", nil), (.get, "/api/v1/roles/\(betaRole._id)", nil),
                (.put, "/api/v1/roles/\(betaRole._id)", #"{"name":"H","permissions":[]}"#), (.delete, "/api/v1/roles/\(betaRole._id)", nil),
                (.get, "/api/v1/groups/\(betaGroup._id)", nil), (.put, "/api/v1/groups/\(betaGroup._id)", #"{"name":"H","roleIds":[]}"#),
                (.delete, "/api/v1/groups/\(betaGroup._id)", nil), (.delete, "/api/v1/tokens/\(betaToken._id)", nil),
                (.get, "/api/v1/templates/\(betaTemplate._id)", nil), (.put, "/api/v1/templates/\(betaTemplate._id)", #"{"content":{"body":"Hacked"}}"#),
                (.delete, "/api/v1/templates/\(betaTemplate._id)", nil), (.get, "/api/v1/templates/\(betaTemplate._id)/versions/1", nil),
                (.post, "/api/v1/templates/\(betaTemplate._id)/preview", #"{"content":{"body":"x"}}"#), (.delete, "/api/v1/fragments/\(betaFragment._id)", nil),
            ] as [(HTTPRequest.Method, String, String?)] {
                let response = try await client.execute(uri: path, method: method, headers: auth, body: body.map { ByteBuffer(string: $0) })
                #expect(response.status == .notFound, "\(method) \(path) answered \(response.status)")
            }
            let users = String(buffer: try await client.execute(uri: "/api/v1/users", method: .get, headers: auth).body)
            #expect(!users.contains("beta.test"))
            let audit = String(buffer: try await client.execute(uri: "/api/v1/audit?limit=1000", method: .get, headers: auth).body)
            #expect(!audit.contains("beta.test"))

            // B's objects are as they were.
            #expect(try await harness.panel.administration.user(betaUser._id, for: betaAdmin).name == "Bob")
            #expect(try await harness.panel.administration.role(betaRole._id, for: betaAdmin).permissions == [Permission(.reports, .view)])
            #expect(try await harness.panel.administration.group(betaGroup._id, for: betaAdmin).roleIds == [betaRole._id])
            #expect(try await harness.panel.administration.tokens(for: betaAdmin).first?.revokedAt == nil)
            #expect(try await harness.panel.store.users.findOne(["_id": .string(betaUser._id)])?.passwordHash != nil)
            #expect(try await harness.panel.templates.template(betaTemplate._id, for: betaAdmin).content.body == "Hi")
            #expect(try await harness.panel.templates.fragment(betaFragment._id, for: betaAdmin).source == "Beta")
            _ = beta
        }
    }
}
