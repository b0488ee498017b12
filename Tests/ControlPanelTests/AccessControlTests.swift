import ControlPanel
import Foundation
import HeraldTesting
import Hummingbird
import HummingbirdTesting
import Security
import Testing

@Suite struct AccessControlTests {
    @Test func aCustomRoleGivesExactlyItsPermissionsAndTheRestIs403() async throws {
        try await PanelHarness.with { harness, client in
            let admin = Browser(client)
            _ = try await admin.logIn("admin@alpha.test", PanelHarness.adminPassword)
            _ = try await admin.get("/settings/roles/new")
            let saved = try await admin.post("/settings/roles", [("name", "Audit reader"), ("description", "reads the audit log"),
                                                                 ("permissions", "audit:view"), ("permissions", "reports:view")])
            #expect(saved.location == "/settings/roles?notice=saved")
            let role = try #require(try await harness.panel.store.roles.findOne(["name": "Audit reader"]))
            #expect(role.permissions == [Permission(.reports, .view), Permission(.audit, .view)])
            _ = try await admin.get("/settings/users")
            let created = try await admin.post("/settings/users", [("login", "rita@alpha.test"), ("name", "Rita"), ("roleIds", role._id),
                                                                   ("password", "Amber-Field-31")])
            #expect(created.status == .created)

            let rita = Browser(client)
            #expect(try await rita.logIn("rita@alpha.test", "Amber-Field-31").location == "/")
            let home = try await rita.get("/")
            #expect(home.body.contains("href=\"/audit\""))
            #expect(!home.body.contains("href=\"/settings/users\""))
            #expect(try await rita.get("/audit").status == .ok)
            let denied = try await rita.get("/settings/users")
            #expect(denied.status == .forbidden)
            #expect(denied.body.contains("id=\"error-page\""))
            #expect(denied.body.contains("users:view"))
            // A forbidden change changes nothing.
            let before = try await harness.panel.store.users.countDocuments()
            let post = try await rita.post("/settings/users", [("login", "sneaky@alpha.test")], csrf: try #require(home.body.firstMatch(of: /name="_csrf" value="([^"]+)"/)?.1).description)
            #expect(post.status == .forbidden)
            #expect(try await harness.panel.store.users.countDocuments() == before)
            let actions = try await harness.auditActions()
            #expect(actions.contains("role.create"))
            #expect(actions.contains("user.create"))
        }
    }

    @Test func nobodyGrantsWhatTheyDoNotHold() async throws {
        try await PanelHarness.with { harness, _ in
            let admin = try await harness.identity("admin@alpha.test", PanelHarness.adminPassword)
            let roles = try await harness.panel.administration.roles(for: admin)
            let administrator = try #require(roles.first { $0.builtIn == "administrator" })
            let usersOnly = try await harness.panel.administration.saveRole(nil, name: "User manager", description: "",
                                                                            permissions: ["users:view", "users:create", "users:edit"], by: admin)
            _ = try await harness.panel.administration.createUser(.init(login: "uma@alpha.test", roleIds: [usersOnly._id], password: "Blue-Harbor-42"), by: admin)
            let uma = try await harness.identity("uma@alpha.test", "Blue-Harbor-42")
            // Uma manages users but cannot hand out the administrator role, to others or herself.
            await #expect(throws: AccessDenied.self) {
                _ = try await harness.panel.administration.createUser(.init(login: "x@alpha.test", roleIds: [administrator._id]), by: uma)
            }
            await #expect(throws: AccessDenied.self) {
                _ = try await harness.panel.administration.updateUser(uma.user._id, .init(roleIds: [usersOnly._id, administrator._id]), by: uma)
            }
            await #expect(throws: AccessDenied.self) {
                _ = try await harness.panel.administration.saveRole(nil, name: "Escalate", description: "", permissions: ["campaigns:send"], by: uma)
            }
            await #expect(throws: AccessDenied.self) {
                _ = try await harness.panel.administration.createToken(name: "t", scopes: ["settings:edit"], expiresInDays: nil, by: uma)
            }
            // Built-in roles are read-only, even for an administrator.
            await #expect(throws: InvalidInput.self) {
                _ = try await harness.panel.administration.saveRole(administrator._id, name: "Administrator", description: "", permissions: [], by: admin)
            }
        }
    }

    @Test func groupsCombineTheirRolesPermissions() async throws {
        try await PanelHarness.with { harness, _ in
            let admin = try await harness.identity("admin@alpha.test", PanelHarness.adminPassword)
            let groups = try await harness.panel.administration.groups(for: admin)
            let marketers = try #require(groups.first { $0.name == "Marketers" })
            let analysts = try #require(groups.first { $0.name == "Analysts" })
            _ = try await harness.panel.administration.createUser(.init(login: "mia@alpha.test", groupIds: [marketers._id, analysts._id], password: "Green-Valley-9"), by: admin)
            let mia = try await harness.identity("mia@alpha.test", "Green-Valley-9")
            #expect(mia.permissions == BuiltInRole.marketer.permissions.union(BuiltInRole.analyst.permissions))
            #expect(mia.can(.campaigns, .send) && mia.can(.reports, .export) && !mia.can(.users, .view))
        }
    }

    @Test func apiCrudWithAScopedTokenAndJSONErrors() async throws {
        try await PanelHarness.with { harness, client in
            let admin = try await harness.identity("admin@alpha.test", PanelHarness.adminPassword)
            let (_, token) = try await harness.panel.administration.createToken(name: "crm", scopes: ["users:view", "users:create", "users:edit", "users:delete"],
                                                                                expiresInDays: 30, by: admin)
            let auth: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
            let created = try await client.execute(uri: "/api/v1/users", method: .post, headers: auth,
                                                   body: ByteBuffer(string: #"{"login":"api@alpha.test","name":"Api"}"#))
            #expect(created.status == .created)
            let user = try JSONSerialization.jsonObject(with: Data(buffer: created.body)) as? [String: Any]
            let id = try #require(user?["id"] as? String)
            #expect((user?["oneTimePassword"] as? String)?.count == 16)
            let duplicate = try await client.execute(uri: "/api/v1/users", method: .post, headers: auth, body: ByteBuffer(string: #"{"login":"api@alpha.test"}"#))
            #expect(duplicate.status == .unprocessableContent)
            #expect(String(buffer: duplicate.body) == #"{"error":{"code":"invalid_field","field":"login","message":"The login 'api@alpha.test' is already used; choose another."}}"#)
            let malformed = try await client.execute(uri: "/api/v1/users/\(id)", method: .patch, headers: auth, body: ByteBuffer(string: #"{"active":"yes"}"#))
            #expect(malformed.status == .badRequest)
            #expect(String(buffer: malformed.body).contains("\"field\":\"active\""))
            let patched = try await client.execute(uri: "/api/v1/users/\(id)", method: .patch, headers: auth, body: ByteBuffer(string: #"{"active":false,"name":"API user"}"#))
            #expect(patched.status == .ok)
            #expect(String(buffer: patched.body).contains("\"active\":false"))
            let entries = try await harness.panel.audit.search(.init(action: "user.update"), in: harness.account._id).collect()
            #expect(entries.first?.via == "api")
            #expect(entries.first?.changes.contains(.init(field: "active", before: "true", after: "false")) == true)
            #expect(try await client.execute(uri: "/api/v1/users/\(id)", method: .delete, headers: auth).status == .noContent)
            #expect(try await client.execute(uri: "/api/v1/users/\(id)", method: .get, headers: auth).status == .notFound)
            // A revoked token stops working at once.
            let tokens = try await harness.panel.administration.tokens(for: admin)
            try await harness.panel.administration.revokeToken(try #require(tokens.first)._id, by: admin)
            #expect(try await client.execute(uri: "/api/v1/users", method: .get, headers: auth).status == .unauthorized)
        }
    }
}
