import BSON
import ControlPanel
import Foundation
import HeraldTesting
import Hummingbird
import HummingbirdTesting
import Security
import Testing

/// Walks every route the panel registers: default deny is proven, not assumed.
@Suite struct RouteWalkTests {
    /// The only routes reachable without a session or token. (`/health`, `/ready` and `/metrics`
    /// are added by ServiceSupport outside the panel's router; ServiceTests cover them.)
    static let publicRoutes: Set<String> = ["GET /login", "POST /login", "POST /language", "GET /api", "GET /api/openapi.json"]

    /// API routes any valid token with at least one scope may call: its own identity and its own tokens.
    static let anyScopeRoutes: Set<String> = ["GET /api/v1/me", "GET /api/v1/tokens", "POST /api/v1/tokens", "DELETE /api/v1/tokens/{id}"]

    static func concrete(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { $0.hasPrefix(":") ? Substring(ObjectId().hex) : $0 }.joined(separator: "/")
    }

    static func key(_ route: Router<PanelRequestContext>.RouteDescription) -> String {
        "\(route.method.rawValue) " + route.path.description.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
    }

    @Test func nothingButTheAllowListIsReachableWithoutCredentials() async throws {
        try await PanelHarness.with { harness, client in
            let routes = harness.router.routes
            #expect(routes.count > 50)
            let registered = Set(routes.map(Self.key))
            #expect(Self.publicRoutes.isSubset(of: registered))
            for route in routes {
                let key = Self.key(route)
                let path = Self.concrete(route.path.description)
                let browser = Browser(client)
                let page = try await browser.request(route.method, path, body: route.method == .get ? nil : "a=b")
                if Self.publicRoutes.contains(key) {
                    #expect(page.status != .unauthorized, "\(key)")
                    continue
                }
                if path.hasPrefix("/api/v1") {
                    #expect(page.status == .unauthorized, "\(key) answered \(page.status)")
                    #expect(page.body.contains("\"code\":\"unauthorized\""), "\(key)")
                } else if route.method == .get {
                    #expect(page.status == .seeOther && page.location?.hasPrefix("/login?next=") == true, "\(key) answered \(page.status)")
                } else {
                    #expect(page.status == .unauthorized, "\(key) answered \(page.status)")
                }
            }
            // A made-up cookie or token is no credential either.
            let fake = Browser(client)
            fake.cookies["herald_session"] = SecretToken.generate()
            #expect(try await fake.get("/settings/users").status == .seeOther)
            let bogus = try await client.execute(uri: "/api/v1/users", method: .get, headers: [.authorization: "Bearer hrld_nope"])
            #expect(bogus.status == .unauthorized)
        }
    }

    @Test func tokensWithoutTheScopeGet403AndChangeNothing() async throws {
        try await PanelHarness.with { harness, client in
            let admin = try await harness.identity("admin@alpha.test", PanelHarness.adminPassword)
            let (_, noScopes) = try await harness.panel.administration.createToken(name: "none", scopes: [], expiresInDays: nil, by: admin)
            let (_, reportsOnly) = try await harness.panel.administration.createToken(name: "reports", scopes: ["reports:view"], expiresInDays: nil, by: admin)
            let usersBefore = try await harness.panel.store.users.countDocuments()
            let apiRoutes = harness.router.routes.filter { $0.path.description.hasPrefix("/api/v1/") }
            #expect(apiRoutes.count >= 20)
            for route in apiRoutes {
                let key = Self.key(route)
                let path = Self.concrete(route.path.description)
                let body = route.method == .get || route.method == .delete ? nil : ByteBuffer(string: #"{"name":"x","login":"x@alpha.test","permissions":[],"roleIds":[],"scopes":[]}"#)
                let bare = try await client.execute(uri: path, method: route.method, headers: [.authorization: "Bearer \(noScopes)", .contentType: "application/json"], body: body)
                #expect(bare.status == .forbidden, "\(key) with no scopes answered \(bare.status)")
                guard !Self.anyScopeRoutes.contains(key) else { continue }
                let narrow = try await client.execute(uri: path, method: route.method, headers: [.authorization: "Bearer \(reportsOnly)", .contentType: "application/json"], body: body)
                #expect(narrow.status == .forbidden, "\(key) with reports:view answered \(narrow.status)")
                #expect(String(buffer: narrow.body).contains("\"code\":\"forbidden\""), "\(key)")
            }
            #expect(try await harness.panel.store.users.countDocuments() == usersBefore)
            // What a token may do is what both its scopes and its user allow.
            let me = try await client.execute(uri: "/api/v1/me", method: .get, headers: [.authorization: "Bearer \(reportsOnly)"])
            #expect(me.status == .ok)
            #expect(String(buffer: me.body).contains("\"permissions\":[\"reports:view\"]"))
        }
    }

    @Test func theOpenAPIDocumentCoversExactlyTheAPIsRoutes() async throws {
        try await PanelHarness.with { harness, client in
            let response = try await client.execute(uri: "/api/openapi.json", method: .get)
            #expect(response.status == .ok)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
            #expect((document["openapi"] as? String)?.hasPrefix("3.") == true)
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            var documented = Set<String>()
            for (path, operations) in paths where path.hasPrefix("/api/") {
                for method in operations.keys where ["get", "post", "put", "patch", "delete"].contains(method) {
                    documented.insert("\(method.uppercased()) \(path)")
                    let operation = try #require(operations[method] as? [String: Any])
                    #expect(operation["summary"] is String, "\(method) \(path) has no summary")
                    if path.hasPrefix("/api/v1/") { #expect(operation["x-herald-scope"] is String, "\(method) \(path) names no scope") }
                }
            }
            let routed = Set(harness.router.routes.map(Self.key).filter { $0.contains(" /api/") })
            #expect(routed.subtracting(documented).sorted() == [], "routes missing from the OpenAPI document")
            #expect(documented.subtracting(routed).sorted() == [], "documented operations without a route")
            let page = try await Browser(client).get("/api")
            #expect(page.status == .ok)
            #expect(page.body.contains("/api/v1/users/{id}"))
        }
    }
}
