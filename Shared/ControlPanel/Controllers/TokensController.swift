import Foundation
import Hummingbird
import Security

/// API tokens: `/settings/tokens` and `/api/v1/tokens`.
struct TokensController {
    let administration: AccessAdministration
    let renderer: PanelRenderer

    func addRoutes(to router: Router<PanelRequestContext>) {
        router.get("/settings/tokens", use: list)
        router.post("/settings/tokens", use: create)
        router.post("/settings/tokens/:id/revoke", use: revoke)
        router.get("/api/v1/tokens", use: apiList)
        router.post("/api/v1/tokens", use: apiCreate)
        router.delete("/api/v1/tokens/:id", use: apiRevoke)
    }

    func page(_ context: PanelRequestContext, extra: [String: Any] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = try context.requireIdentity()
        let catalog = renderer.catalogs[context.language]
        let tokens = try await administration.tokens(for: identity).map { token -> [String: Any] in
            ["id": token._id, "name": token.name, "prefix": token.prefix, "scopes": token.scopes.map(\.description).joined(separator: " "),
             "created": token.createdAt.formatted(.iso8601), "lastUsed": token.lastUsedAt?.formatted(.iso8601) ?? "—",
             "expires": token.expiresAt?.formatted(.iso8601) ?? "—", "revoked": token.revokedAt != nil]
        }
        let scopes = Permission.all.filter(identity.permissions.contains).map { permission -> [String: Any] in
            ["value": permission.description,
             "label": catalog.text("resources." + permission.resource.rawValue) + ": " + catalog.text("actions." + permission.action.rawValue)]
        }
        var values: [String: Any] = ["tokens": tokens, "scopes": scopes]
        values.merge(extra) { $1 }
        return renderer.page("tokens", title: "tokens.title", values: values, context: context, status: status, active: "tokens")
    }

    @Sendable func list(_ request: Request, context: PanelRequestContext) async throws -> Response { try await page(context) }

    @Sendable func create(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let form = try await FormData.read(request, context: context)
        do {
            let days = (form["expiresInDays"] ?? "").isEmpty ? nil : try form.int("expiresInDays")
            let (_, secret) = try await administration.createToken(name: form["name"] ?? "", scopes: form.values("scopes"), expiresInDays: days,
                                                                   by: try context.requireIdentity())
            return try await page(context, extra: ["secret": secret], status: .created)
        } catch let error as InvalidInput {
            return try await page(context, extra: ["error": renderer.message(error.key, error.arguments, context: context)], status: .unprocessableContent)
        }
    }

    @Sendable func revoke(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await administration.revokeToken(try context.parameters.require("id"), by: try context.requireIdentity())
        return .redirect(to: "/settings/tokens", type: .normal)
    }

    struct TokenBody: Decodable {
        let name: String
        let scopes: [String]
        let expiresInDays: Int?
    }

    @Sendable func apiList(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(ListView(items: try await administration.tokens(for: try context.requireIdentity()).map { TokenView($0) }))
    }

    @Sendable func apiCreate(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(TokenBody.self, from: request)
        let (token, secret) = try await administration.createToken(name: body.name, scopes: body.scopes, expiresInDays: body.expiresInDays,
                                                                   by: try context.requireIdentity())
        return try JSONBody.response(TokenView(token, secret: secret), status: .created)
    }

    @Sendable func apiRevoke(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await administration.revokeToken(try context.parameters.require("id"), by: try context.requireIdentity())
        return Response(status: .noContent)
    }
}
