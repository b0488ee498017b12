import ControlPanel
import Foundation
import HeraldTesting
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Security
import Testing

@Suite struct LoginTests {
    @Test func unauthenticatedPagesRedirectToLoginAndBack() async throws {
        try await PanelHarness.with { harness, client in
            let browser = Browser(client)
            let page = try await browser.get("/settings/users?x=1")
            #expect(page.status == .seeOther)
            #expect(page.location == "/login?next=%2Fsettings%2Fusers%3Fx%3D1")
            _ = try await browser.get("/login?next=%2Fsettings%2Fusers")
            let login = try await browser.post("/login", [("login", "ADMIN@alpha.test"), ("password", PanelHarness.adminPassword), ("next", "/settings/users")])
            #expect(login.status == .seeOther)
            #expect(login.location == "/settings/users")
            #expect(try await browser.get("/settings/users").body.contains("admin@alpha.test"))
            // An open redirect is refused: `next` must be a path of this site.
            _ = try await browser.post("/logout", [])
            _ = try await browser.get("/login")
            let evil = try await browser.post("/login", [("login", "admin@alpha.test"), ("password", PanelHarness.adminPassword), ("next", "//evil.example/")])
            #expect(evil.location == "/")
            #expect(try await harness.auditActions().filter { $0 == "login.success" }.count == 2)
        }
    }

    @Test func wrongPasswordThenLockoutRefusesEvenTheRightPassword() async throws {
        try await PanelHarness.with { harness, client in
            let identity = try await harness.identity("admin@alpha.test", PanelHarness.adminPassword)
            var policy = harness.account.passwordPolicy
            policy.lockoutAttempts = 3
            policy.lockoutMinutes = 10
            _ = try await harness.panel.administration.updateSecuritySettings(policy: policy, sessionIdleMinutes: 60, auditRetentionDays: 365, by: identity)
            let (_, _) = try await harness.panel.administration.createUser(.init(login: "mallory@alpha.test", password: "Secret-Garden-7"), by: identity)
            let browser = Browser(client)
            for _ in 0..<2 {
                let page = try await browser.logIn("mallory@alpha.test", "guess")
                #expect(page.status == .unauthorized)
                #expect(page.body.contains("Wrong login or password."))
            }
            let third = try await browser.logIn("mallory@alpha.test", "guess")
            #expect(third.body.contains("locked for 10 more minutes"))
            let right = try await browser.logIn("mallory@alpha.test", "Secret-Garden-7")
            #expect(right.status == .unauthorized)
            #expect(right.body.contains("locked"))
            #expect(browser.cookies["herald_session"] == nil)
            let actions = try await harness.auditActions()
            #expect(actions.filter { $0 == "login.failure" }.count == 3)
            #expect(actions.contains("user.lock"))
            #expect(actions.last == "login.refused")
            // An administrator unlocks the user; the right password works again.
            let mallory = try #require(try await harness.user("mallory@alpha.test"))
            try await harness.panel.administration.unlockUser(mallory._id, by: identity)
            #expect(try await browser.logIn("mallory@alpha.test", "Secret-Garden-7").status == .seeOther)
        }
    }

    @Test func firstLoginForcesAPasswordChangeThatFollowsThePolicy() async throws {
        try await PanelHarness.with { harness, client in
            let identity = try await harness.identity("admin@alpha.test", PanelHarness.adminPassword)
            let (user, oneTime) = try await harness.panel.administration.createUser(.init(login: "nina@alpha.test", name: "Nina"), by: identity)
            let password = try #require(oneTime)
            #expect(user.mustChangePassword)
            let browser = Browser(client)
            #expect(try await browser.logIn("nina@alpha.test", password).location == "/password/change")
            // Every other page sends the user back to the change form.
            #expect(try await browser.get("/settings/users").location == "/password/change")
            #expect(try await browser.get("/").location == "/password/change")
            let form = try await browser.get("/password/change")
            #expect(form.body.contains("id=\"forced\""))
            let short = try await browser.post("/password/change", [("current", password), ("new", "Ab1"), ("confirmation", "Ab1")])
            #expect(short.status == .unprocessableContent)
            #expect(short.body.contains("at least 10 characters"))
            let login = try await browser.post("/password/change", [("current", password), ("new", "nina-Secret-9"), ("confirmation", "nina-Secret-9")])
            #expect(login.body.contains("must not contain your login"))
            let done = try await browser.post("/password/change", [("current", password), ("new", "Orange-Sky-42"), ("confirmation", "Orange-Sky-42")])
            #expect(done.location == "/?notice=password_changed")
            #expect(try await browser.get("/").status == .ok)
            // Back to a recent password: refused by the history rule.
            _ = try await browser.get("/password/change")
            let back = try await browser.post("/password/change", [("current", "Orange-Sky-42"), ("new", password), ("confirmation", password)])
            #expect(back.body.contains("used this password recently"))
            #expect(try await harness.auditActions().contains("user.password_change"))
        }
    }

    @Test func stateChangingRequestsWithoutTheCSRFTokenChangeNothing() async throws {
        try await PanelHarness.with { harness, client in
            let browser = Browser(client)
            _ = try await browser.logIn("admin@alpha.test", PanelHarness.adminPassword)
            _ = try await browser.get("/settings/users")
            let forged = try await browser.post("/settings/users", [("login", "forged@alpha.test")], csrf: "not-the-token")
            #expect(forged.status == .forbidden)
            #expect(try await harness.user("forged@alpha.test") == nil)
            let missing = try await browser.request(.post, "/settings/users", body: "login=forged%40alpha.test")
            #expect(missing.status == .forbidden)
            #expect(try await harness.user("forged@alpha.test") == nil)
            // The login form itself needs its double-submit token.
            let other = Browser(client)
            let login = try await other.request(.post, "/login", body: "login=admin%40alpha.test&password=\(PanelHarness.adminPassword)")
            #expect(login.status == .forbidden)
            _ = try await browser.get("/settings/users")
            let made = try await browser.post("/settings/users", [("login", "real@alpha.test")])
            #expect(made.status == .created)
            #expect(try await harness.user("real@alpha.test") != nil)
        }
    }

    @Test func sessionCookiesAreHttpOnlyLaxAndSecureBehindHTTPS() async throws {
        try await PanelHarness.with { _, client in
            let browser = Browser(client)
            let plain = try await browser.logIn("admin@alpha.test", PanelHarness.adminPassword)
            let cookie = try #require(plain.headers[values: .setCookie].first { $0.hasPrefix("herald_session=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"))
            let proxied = Browser(client)
            proxied.headers[HTTPField.Name("X-Forwarded-Proto")!] = "https"
            let secure = try await proxied.logIn("admin@alpha.test", PanelHarness.adminPassword)
            #expect(secure.headers[values: .setCookie].first { $0.hasPrefix("herald_session=") }?.contains("; Secure") == true)
        }
    }

    @Test func logoutEndsTheSessionAndLogoutEverywhereEndsAllOfThem() async throws {
        try await PanelHarness.with { _, client in
            let first = Browser(client), second = Browser(client)
            _ = try await first.logIn("admin@alpha.test", PanelHarness.adminPassword)
            _ = try await second.logIn("admin@alpha.test", PanelHarness.adminPassword)
            let stolen = first.cookies["herald_session"]
            _ = try await first.get("/profile")
            #expect(try await first.post("/logout", []).location == "/login")
            let replay = Browser(client)
            replay.cookies["herald_session"] = stolen
            #expect(try await replay.get("/").location?.hasPrefix("/login") == true)
            #expect(try await second.get("/").status == .ok)
            _ = try await first.logIn("admin@alpha.test", PanelHarness.adminPassword)
            _ = try await first.get("/profile")
            _ = try await first.post("/logout/everywhere", [])
            #expect(try await second.get("/").location?.hasPrefix("/login") == true)
        }
    }

    @Test func secondFactorIsAskedAfterThePasswordAndCodesAreNotReused() async throws {
        try await PanelHarness.with { harness, client in
            let browser = Browser(client)
            _ = try await browser.logIn("admin@alpha.test", PanelHarness.adminPassword)
            _ = try await browser.get("/profile")
            let setup = try await browser.post("/profile/totp/begin", [])
            let secretText = try #require(setup.body.firstMatch(of: /id="totp-secret">([A-Z2-7]+)</)?.1)
            let totp = TimeBasedOneTimePassword(secret: try #require(Base32.decode(String(secretText))))
            let wrong = try await browser.post("/profile/totp/confirm", [("code", "000000")])
            #expect(wrong.status == .unprocessableContent || totp.code(at: Date()) == "000000")
            _ = try await browser.get("/profile")
            #expect(try await browser.post("/profile/totp/confirm", [("code", totp.code(at: Date()))]).location == "/profile")
            _ = try await browser.get("/profile")
            _ = try await browser.post("/logout", [])

            let again = Browser(client)
            #expect(try await again.logIn("admin@alpha.test", PanelHarness.adminPassword).location == "/login/totp")
            #expect(try await again.get("/settings/users").location == "/login/totp")
            _ = try await again.get("/login/totp")
            #expect(try await again.post("/login/totp", [("code", "12345")]).status == .unauthorized)
            // The code confirmed at enrolment was used; only a later step's code is accepted.
            let next = totp.code(at: Date().addingTimeInterval(30))
            #expect(try await again.post("/login/totp", [("code", next)]).location == "/")
            #expect(try await again.get("/settings/users").status == .ok)
            let actions = try await harness.auditActions()
            #expect(actions.contains("user.second_factor_enable"))
            #expect(actions.contains("login.second_factor_failure"))
            #expect(actions.last == "login.second_factor")
        }
    }

    @Test func languageFollowsTheBrowserThenTheUsersChoice() async throws {
        try await PanelHarness.with { harness, client in
            let browser = Browser(client, language: "ru-RU,ru;q=0.9,en;q=0.8")
            let login = try await browser.get("/login")
            #expect(login.body.contains("<html lang=\"ru\">"))
            #expect(login.body.contains("Войти"))
            #expect(try await Browser(client, language: "de-DE,fr;q=0.5").get("/login").body.contains("<html lang=\"en\">"))
            _ = try await browser.post("/login", [("login", "admin@alpha.test"), ("password", PanelHarness.adminPassword), ("next", "/")])
            _ = try await browser.get("/")
            _ = try await browser.post("/language", [("language", "en"), ("next", "/settings/users")])
            #expect(try await harness.user("admin@alpha.test")?.language == "en")
            // The user's choice wins over the browser's header, on any device.
            let elsewhere = Browser(client, language: "ru")
            _ = try await elsewhere.logIn("admin@alpha.test", PanelHarness.adminPassword)
            #expect(try await elsewhere.get("/").body.contains("<html lang=\"en\">"))
            #expect(try await harness.auditActions().contains("user.language"))
        }
    }

    @Test func anExpiredPasswordMustBeChangedAndAnIdleSessionEnds() async throws {
        try await PanelHarness.with { harness, client in
            let admin = try await harness.identity("admin@alpha.test", PanelHarness.adminPassword)
            var policy = harness.account.passwordPolicy
            policy.maximumAgeDays = 30
            _ = try await harness.panel.administration.updateSecuritySettings(policy: policy, sessionIdleMinutes: 15, auditRetentionDays: 365, by: admin)
            _ = try await harness.panel.administration.createUser(.init(login: "old@alpha.test", password: "Autumn-Leaves-5"), by: admin)
            var old = try #require(try await harness.user("old@alpha.test"))
            old.passwordChangedAt = Date().addingTimeInterval(-31 * 86400)
            _ = try await harness.panel.store.users.replaceOne(filter: ["_id": .string(old._id)], replacement: old)
            let browser = Browser(client)
            #expect(try await browser.logIn("old@alpha.test", "Autumn-Leaves-5").location == "/password/change")
            _ = try await browser.get("/password/change")
            #expect(try await browser.post("/password/change", [("current", "Autumn-Leaves-5"), ("new", "Winter-Frost-66"), ("confirmation", "Winter-Frost-66")])
                .location == "/?notice=password_changed")
            #expect(try await browser.get("/").status == .ok)
            // Idle past the account's limit: the session is gone.
            let session = try #require(try await harness.panel.store.sessions.findOne(["userId": .string(old._id)]))
            var idle = session
            idle.lastSeenAt = Date().addingTimeInterval(-16 * 60)
            _ = try await harness.panel.store.sessions.replaceOne(filter: ["_id": .string(session._id)], replacement: idle)
            #expect(try await browser.get("/").location?.hasPrefix("/login") == true)
            #expect(try await harness.panel.store.sessions.findOne(["_id": .string(session._id)]) == nil)
        }
    }
}
