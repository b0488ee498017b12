import Foundation
import Hummingbird
import Security

/// Logging in and out, the second factor, the forced password change, and the language switch.
struct LoginController {
    let authenticator: Authenticator
    let administration: AccessAdministration
    let renderer: PanelRenderer
    let secureCookies: Bool

    func addRoutes(to router: Router<PanelRequestContext>) {
        router.get("/login", use: loginPage)
        router.post("/login", use: logIn)
        router.get("/login/totp", use: secondFactorPage)
        router.post("/login/totp", use: secondFactor)
        router.post("/logout", use: logOut)
        router.post("/logout/everywhere", use: logOutEverywhere)
        router.get("/password/change", use: passwordPage)
        router.post("/password/change", use: changePassword)
        router.post("/language", use: switchLanguage)
    }

    /// A cookie of the panel: HttpOnly, SameSite=Lax, and Secure when `control.cookies.secure` is
    /// on or the request came over HTTPS through a proxy (`X-Forwarded-Proto: https`).
    func cookie(_ name: String, _ value: String, maxAge: Int? = nil, for request: Request) -> Cookie {
        let https = request.headers.first(where: { $0.name.canonicalName == "x-forwarded-proto" })?.value.lowercased() == "https"
        return Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: secureCookies || https, httpOnly: true, sameSite: .lax)
    }

    @Sendable func loginPage(_ request: Request, context: PanelRequestContext) async throws -> Response {
        if let identity = context.identity, identity.session?.stage == .active { return .redirect(to: "/", type: .normal) }
        return loginForm(request, context: context, next: request.uri.queryParameters["next"].map(String.init) ?? "/", error: nil, login: "")
    }

    /// The login form. Its double-submit token is kept while the browser has one, so a second tab
    /// (or a stray request that lands on the login page) does not invalidate the first.
    func loginForm(_ request: Request, context: PanelRequestContext, next: String, error: String?, login: String, status: HTTPResponse.Status = .ok) -> Response {
        let existing = request.cookies[AuthenticationMiddleware.loginCSRFCookie]?.value ?? ""
        let token = existing.count == 32 && existing.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) ? existing : SecretToken.generate(bytes: 24)
        var response = renderer.page("login", title: "login.title", values: ["csrf": token, "next": next, "error": error ?? "", "login": login],
                                     context: context, status: status)
        response.setCookie(cookie(AuthenticationMiddleware.loginCSRFCookie, token, for: request))
        return response
    }

    /// Only same-site paths: `next` must not send the user to another host after login.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\") else { return "/" }
        return next
    }

    @Sendable func logIn(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let form = try await FormData.read(request, context: context)
        let login = form["login"] ?? "", next = Self.safeNext(form["next"])
        let catalog = renderer.catalogs[context.language]
        let result = try await authenticator.logIn(login: login, password: form["password"] ?? "", address: context.address,
                                                   userAgent: request.headers[.userAgent] ?? "")
        switch result {
        case .loggedIn(let secret, let session):
            let target = switch session.stage {
            case .active: next
            case .mustChangePassword: "/password/change"
            case .needsSecondFactor: "/login/totp"
            }
            var response = Response.redirect(to: target, type: .normal)
            response.setCookie(cookie(AuthenticationMiddleware.sessionCookie, secret, for: request))
            return response
        case .invalidCredentials:
            return loginForm(request, context: context, next: next, error: catalog.text("login.invalid"), login: login, status: .unauthorized)
        case .lockedOut(let until):
            let minutes = max(1, Int((until.timeIntervalSinceNow / 60).rounded(.up)))
            return loginForm(request, context: context, next: next, error: catalog.text("login.locked", [String(minutes)]), login: login, status: .unauthorized)
        case .disabled:
            return loginForm(request, context: context, next: next, error: catalog.text("login.disabled"), login: login, status: .unauthorized)
        case .directoryUnavailable:
            return loginForm(request, context: context, next: next, error: catalog.text("login.directory_unavailable"), login: login, status: .serviceUnavailable)
        }
    }

    @Sendable func secondFactorPage(_ request: Request, context: PanelRequestContext) async throws -> Response {
        renderer.page("totp", title: "login.totp_title", context: context)
    }

    @Sendable func secondFactor(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let form = try await FormData.read(request, context: context)
        guard let session = identity.session, try await authenticator.completeSecondFactor(session: session, code: form["code"] ?? "", address: context.address) else {
            return renderer.page("totp", title: "login.totp_title", values: ["error": renderer.catalogs[context.language].text("login.totp_wrong")],
                                 context: context, status: .unauthorized)
        }
        return .redirect(to: "/", type: .normal)
    }

    @Sendable func logOut(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await authenticator.logOut(try context.requireIdentity())
        var response = Response.redirect(to: "/login", type: .normal)
        response.setCookie(cookie(AuthenticationMiddleware.sessionCookie, "", maxAge: 0, for: request))
        return response
    }

    @Sendable func logOutEverywhere(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let ended = try await authenticator.endSessions(of: identity.user._id)
        try await administration.audit.record(identity.actor, "logout.everywhere", kind: "user", id: identity.user._id, name: identity.user.login,
                                              changes: [.init(field: "sessions", before: String(ended), after: "0")])
        var response = Response.redirect(to: "/login", type: .normal)
        response.setCookie(cookie(AuthenticationMiddleware.sessionCookie, "", maxAge: 0, for: request))
        return response
    }

    @Sendable func passwordPage(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        return renderer.page("password", title: "password.title", values: ["forced": identity.session?.stage == .mustChangePassword,
                                                                           "policy": policyLines(identity.account.passwordPolicy, context: context)], context: context)
    }

    func policyLines(_ policy: PasswordPolicy, context: PanelRequestContext) -> [String] {
        let catalog = renderer.catalogs[context.language]
        var lines = [catalog.text("password.rule_length", [String(policy.minimumLength)])]
        if policy.requiresLowercase { lines.append(catalog.text("password.rule_lowercase")) }
        if policy.requiresUppercase { lines.append(catalog.text("password.rule_uppercase")) }
        if policy.requiresDigit { lines.append(catalog.text("password.rule_digit")) }
        if policy.requiresSymbol { lines.append(catalog.text("password.rule_symbol")) }
        if policy.historyCount > 0 { lines.append(catalog.text("password.rule_history", [String(policy.historyCount)])) }
        return lines
    }

    @Sendable func changePassword(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let form = try await FormData.read(request, context: context)
        do {
            try await administration.changeOwnPassword(current: form["current"] ?? "", new: form["new"] ?? "", confirmation: form["confirmation"] ?? "", by: identity)
        } catch let error as InvalidInput {
            return renderer.page("password", title: "password.title", values: [
                "forced": identity.session?.stage == .mustChangePassword, "error": renderer.message(error.key, error.arguments, context: context),
                "policy": policyLines(identity.account.passwordPolicy, context: context),
            ], context: context, status: .unprocessableContent)
        }
        return .redirect(to: identity.user.totpEnabled && identity.session?.stage == .mustChangePassword ? "/login/totp" : "/?notice=password_changed", type: .normal)
    }

    @Sendable func switchLanguage(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let form = try await FormData.read(request, context: context)
        let language = form["language"] ?? ""
        guard renderer.catalogs.all[language] != nil else { throw InvalidInput("language", "unknown_language", renderer.catalogs.all.keys.sorted().joined(separator: ", ")) }
        if let identity = context.identity, identity.session?.stage == .active {
            try await administration.setOwnLanguage(language, by: identity)
        }
        var response = Response.redirect(to: Self.safeNext(form["next"]), type: .normal)
        response.setCookie(cookie(AuthenticationMiddleware.languageCookie, language, maxAge: 365 * 86400, for: request))
        return response
    }
}
