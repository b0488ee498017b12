import ControlPanel
import Foundation
import HeraldTesting
import Hummingbird
import HummingbirdTesting
import LDAP
import Security
import Testing

/// Logins through an account's directory, against a real slapd.
@Suite struct LDAPLoginTests {
    @Test func firstLoginCreatesTheUserWithMappedGroupsAndABadPasswordIsRefused() async throws {
        let slapd = try await SlapdServer(people: [.init(uid: "alice", password: "alice-pw", name: "Alice Liddell"), .init(uid: "bob", password: "bob-pw", name: "Bob Stone")],
                                          groups: ["marketing": ["alice"], "analysts": ["alice", "bob"]])
        do {
            try await PanelHarness.with { harness, client in
                let admin = try await harness.identity("admin@alpha.test", PanelHarness.adminPassword)
                let groups = try await harness.panel.administration.groups(for: admin)
                let marketers = try #require(groups.first { $0.name == "Marketers" }), analysts = try #require(groups.first { $0.name == "Analysts" })

                // The panel's form: test the connection, then save with the group mapping.
                let browser = Browser(client)
                _ = try await browser.logIn("admin@alpha.test", PanelHarness.adminPassword)
                _ = try await browser.get("/settings/ldap")
                let form: [(String, String)] = [
                    ("enabled", "on"), ("url", slapd.url), ("loginDomain", "Example.com"), ("userDNTemplate", "uid={login},ou=people,dc=example,dc=com"),
                    ("groupBaseDN", "ou=groups,dc=example,dc=com"), ("groupFilter", "(&(objectClass=groupOfNames)(member={dn}))"),
                    ("serviceBindDN", SlapdServer.adminDN), ("serviceBindPassword", SlapdServer.adminPassword), ("timeoutSeconds", "3"),
                    ("map_\(marketers._id)", SlapdServer.groupDN("marketing")), ("map_\(analysts._id)", SlapdServer.groupDN("analysts")),
                ]
                let test = try await browser.post("/settings/ldap/test", form)
                #expect(test.body.contains("id=\"ldap-test-result\""))
                #expect(test.body.contains("Connection works"))
                #expect(try await browser.post("/settings/ldap", form).location == "/settings/ldap?notice=saved")
                var wrong = form
                wrong[7] = ("serviceBindPassword", "nope")
                _ = try await browser.get("/settings/ldap")
                #expect(try await browser.post("/settings/ldap/test", wrong).body.contains("Connection failed"))

                let aliceBrowser = Browser(client)
                #expect(try await aliceBrowser.logIn("alice@example.com", "wrong").status == .unauthorized)
                #expect(try await harness.user("alice@example.com") == nil)
                #expect(try await aliceBrowser.logIn("alice@example.com", "alice-pw").location == "/")
                let alice = try #require(try await harness.user("alice@example.com"))
                #expect(alice.source == .ldap && alice.name == "Alice Liddell" && alice.passwordHash == nil)
                #expect(Set(alice.groupIds) == [marketers._id, analysts._id])
                let identity = try await harness.identity("alice@example.com", "alice-pw")
                #expect(identity.permissions == BuiltInRole.marketer.permissions.union(BuiltInRole.analyst.permissions))
                // Bob is only in analysts: read-only.
                let bob = try await harness.identity("bob@example.com", "bob-pw")
                #expect(bob.can(.reports, .view) && !bob.can(.campaigns, .send))
                // A directory password is not changed in Herald.
                await #expect(throws: InvalidInput.self) {
                    try await harness.panel.administration.changeOwnPassword(current: "bob-pw", new: "Whatever-12345", confirmation: "Whatever-12345", by: bob)
                }
                let actions = try await harness.auditActions()
                #expect(actions.contains("settings.ldap") && actions.contains("settings.ldap_test"))
                #expect(actions.filter { $0 == "user.create" }.count >= 2)
            }
        } catch {
            await slapd.stop()
            throw error
        }
        await slapd.stop()
    }

    @Test func anUnreachableDirectoryIsReportedNotTreatedAsAWrongPassword() async throws {
        try await PanelHarness.with { harness, client in
            let admin = try await harness.identity("admin@alpha.test", PanelHarness.adminPassword)
            let settings = LDAPSettings(url: "ldap://127.0.0.1:\(FreePort.next())", userDNTemplate: "uid={login},ou=people,dc=example,dc=com", timeoutSeconds: 1)
            _ = try await harness.panel.administration.updateLDAP(.init(enabled: true, settings: settings, loginDomain: "down.test", groupMappings: []), by: admin)
            let page = try await Browser(client).logIn("carol@down.test", "pw")
            #expect(page.status == .serviceUnavailable)
            #expect(page.body.contains("The directory server does not answer"))
        }
    }
}
