import Foundation
import Hummingbird
import Security

/// The dashboard, the user's own profile (language, password, second factor), and the
/// installation's accounts for its platform administrators.
struct HomeController {
    let administration: AccessAdministration
    let renderer: PanelRenderer

    func addRoutes(to router: Router<PanelRequestContext>) {
        router.get("/", use: dashboard)
        router.get("/profile", use: profile)
        router.post("/profile/totp/begin", use: beginTOTP)
        router.post("/profile/totp/confirm", use: confirmTOTP)
        router.post("/profile/totp/disable", use: disableTOTP)
        router.get("/accounts", use: accounts)
        router.post("/accounts", use: createAccount)
        router.get("/api/v1/me", use: apiMe)
    }

    @Sendable func dashboard(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let catalog = renderer.catalogs[context.language]
        var values: [String: Any] = [
            "permissions": Permission.Resource.allCases.compactMap { resource -> [String: Any]? in
                let actions = resource.actions.filter { identity.permissions.contains(Permission(resource, $0)) }
                guard !actions.isEmpty else { return nil }
                return ["resource": catalog.text("resources." + resource.rawValue), "actions": actions.map { catalog.text("actions." + $0.rawValue) }.joined(separator: ", ")]
            },
        ]
        if let notice = request.uri.queryParameters["notice"] { values["notice"] = catalog.text("notices." + String(notice)) }
        return renderer.page("dashboard", title: "dashboard.title", values: values, context: context, active: "dashboard")
    }

    func profilePage(_ context: PanelRequestContext, extra: [String: Any] = [:], status: HTTPResponse.Status = .ok) throws -> Response {
        let identity = try context.requireIdentity()
        var values: [String: Any] = ["secondFactor": identity.user.totpEnabled, "pending": identity.user.totpSecret != nil && !identity.user.totpEnabled,
                                     "local": identity.user.source == .local]
        values.merge(extra) { $1 }
        return renderer.page("profile", title: "profile.title", values: values, context: context, status: status)
    }

    @Sendable func profile(_ request: Request, context: PanelRequestContext) async throws -> Response { try profilePage(context) }

    @Sendable func beginTOTP(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let totp = try await administration.beginSecondFactor(by: identity)
        return try profilePage(context, extra: ["pending": true, "secret": Base32.encode(totp.secret),
                                                "uri": totp.provisioningURI(account: identity.user.login, issuer: "Herald")])
    }

    @Sendable func confirmTOTP(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let form = try await FormData.read(request, context: context)
        do {
            try await administration.confirmSecondFactor(code: form["code"] ?? "", by: try context.requireIdentity())
        } catch let error as InvalidInput {
            return try profilePage(context, extra: ["error": renderer.message(error.key, error.arguments, context: context)], status: .unprocessableContent)
        }
        return .redirect(to: "/profile", type: .normal)
    }

    @Sendable func disableTOTP(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await administration.disableSecondFactor(by: try context.requireIdentity())
        return .redirect(to: "/profile", type: .normal)
    }

    func requirePlatformAdmin(_ context: PanelRequestContext) throws -> Identity {
        let identity = try context.requireIdentity()
        guard identity.user.platformAdmin else { throw AccessDenied("platform_admin_only") }
        return identity
    }

    func accountsPage(_ context: PanelRequestContext, extra: [String: Any] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        _ = try requirePlatformAdmin(context)
        let accounts = try await administration.store.accounts.find([:], options: .init(sort: ["name": 1])).collect()
        var values: [String: Any] = ["accounts": accounts.map { ["id": $0._id, "name": $0.name, "created": $0.createdAt.formatted(.iso8601)] }]
        values.merge(extra) { $1 }
        return renderer.page("accounts", title: "accounts.title", values: values, context: context, status: status, active: "accounts")
    }

    @Sendable func accounts(_ request: Request, context: PanelRequestContext) async throws -> Response { try await accountsPage(context) }

    @Sendable func createAccount(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try requirePlatformAdmin(context)
        let form = try await FormData.read(request, context: context)
        do {
            let (_, admin, password) = try await administration.createAccount(name: form["name"] ?? "", adminLogin: (form["adminLogin"] ?? "").lowercased(),
                                                                              by: identity.actor)
            return try await accountsPage(context, extra: ["created": ["login": admin.login, "password": password]], status: .created)
        } catch let error as InvalidInput {
            return try await accountsPage(context, extra: ["error": renderer.message(error.key, error.arguments, context: context)], status: .unprocessableContent)
        }
    }

    struct Me: Encodable {
        let user: UserView
        let account: String
        let accountId: String
        let permissions: [String]
    }

    /// The token's owner and what the token may do. Needs no particular scope beyond a valid token
    /// with at least one.
    @Sendable func apiMe(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        guard !identity.permissions.isEmpty else { throw AccessDenied("token_without_scopes") }
        return try JSONBody.response(Me(user: UserView(identity.user), account: identity.account.name, accountId: identity.account._id,
                                        permissions: identity.permissions.sorted().map(\.description)))
    }
}
