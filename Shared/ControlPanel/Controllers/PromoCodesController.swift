import CustomerData
import Foundation
import Hummingbird
import Security
import ServiceSupport

/// Promo code pools: `/promo-codes` in the panel, `/api/v1/promo-pools` in the API. Codes are
/// issued to profiles from their cards (ProfilesController).
struct PromoCodesController {
    let promoCodes: PromoCodeService
    let renderer: PanelRenderer

    func addRoutes(to router: Router<PanelRequestContext>) {
        router.get("/promo-codes", use: page)
        router.post("/promo-codes", use: createFromForm)
        router.post("/promo-codes/:id/codes", use: codesFromForm)
        router.get("/api/v1/promo-pools", use: apiList)
        router.post("/api/v1/promo-pools", use: apiCreate)
        router.post("/api/v1/promo-pools/:id/codes", use: apiAddCodes)
    }

    func pageResponse(_ request: Request, context: PanelRequestContext, extra: [String: Any] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = try context.requireIdentity()
        var values: [String: Any] = [
            "pools": try await promoCodes.list(for: identity).map { s -> [String: Any] in
                ["id": s.pool._id, "name": s.pool.name, "description": s.pool.description, "total": s.total, "issued": s.issued, "free": s.free,
                 "created": s.pool.createdAt.formatted(.iso8601), "by": s.pool.createdBy]
            },
            "canCreate": identity.can(.promoCodes, .create), "canImport": identity.can(.promoCodes, .import),
        ]
        values.merge(extra) { $1 }
        return renderer.page("promo_codes", title: "promo_codes.title", values: values, context: context, status: status, active: "promo_codes")
    }

    @Sendable func page(_ request: Request, context: PanelRequestContext) async throws -> Response {
        var extra: [String: Any] = [:]
        if let notice = request.uri.queryParameters["notice"] { extra["notice"] = renderer.catalogs[context.language].text("notices." + String(notice)) }
        return try await pageResponse(request, context: context, extra: extra)
    }

    @Sendable func createFromForm(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let form = try await FormData.read(request, context: context)
        do {
            _ = try await promoCodes.create(name: form["name"] ?? "", description: form["description"] ?? "", by: try context.requireIdentity())
        } catch let error as InvalidInput {
            return try await pageResponse(request, context: context, extra: ["error": renderer.message(error.key, error.arguments, context: context)], status: .unprocessableContent)
        }
        return .redirect(to: "/promo-codes?notice=saved", type: .normal)
    }

    /// Pasted codes (one a line) and/or generated ones.
    @Sendable func codesFromForm(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let form = try await FormData.read(request, context: context)
        let identity = try context.requireIdentity()
        let id = try context.parameters.require("id")
        do {
            var messages: [String] = []
            if let text = form["codes"], !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                let result = try await promoCodes.add(text, to: id, by: identity)
                messages.append(renderer.message("promo_codes_added", [String(result.added), String(result.present), String(result.rejected.count)], context: context))
                messages += result.rejected.prefix(50).map { "line \($0.line): \($0.message)" }
            }
            if let count = try form.optionalInt("count") {
                let made = try await promoCodes.generate(count, prefix: form["prefix"] ?? "", length: try form.optionalInt("length") ?? 8, in: id, by: identity)
                messages.append(renderer.message("promo_codes_generated", [String(made)], context: context))
            }
            return try await pageResponse(request, context: context, extra: ["result": messages.joined(separator: "\n")])
        } catch let error as InvalidInput {
            return try await pageResponse(request, context: context, extra: ["error": renderer.message(error.key, error.arguments, context: context)], status: .unprocessableContent)
        }
    }

    struct PoolView: Encodable {
        let id: String, name: String, description: String, total: Int, issued: Int, free: Int, createdAt: Date
        init(_ s: PromoCodeService.PoolSummary) {
            id = s.pool._id; name = s.pool.name; description = s.pool.description; total = s.total; issued = s.issued; free = s.free; createdAt = s.pool.createdAt
        }
    }

    @Sendable func apiList(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(["items": try await promoCodes.list(for: try context.requireIdentity()).map(PoolView.init)])
    }

    @Sendable func apiCreate(_ request: Request, context: PanelRequestContext) async throws -> Response {
        struct Body: Decodable { let name: String, description: String? }
        try context.requireIdentity().require(.promoCodes, .create)
        let body = try await JSONBody.decode(Body.self, from: request)
        let pool = try await promoCodes.create(name: body.name, description: body.description ?? "", by: try context.requireIdentity())
        return try JSONBody.response(PoolView(try await promoCodes.summary(of: pool)), status: .created)
    }

    /// `POST /api/v1/promo-pools/{id}/codes {"codes": [...]}` or `{"generate": {"count", "prefix", "length"}}`.
    @Sendable func apiAddCodes(_ request: Request, context: PanelRequestContext) async throws -> Response {
        struct Generate: Decodable { let count: Int, prefix: String?, length: Int? }
        struct Body: Decodable { let codes: [String]?, generate: Generate? }
        try context.requireIdentity().require(.promoCodes, .import)
        let body = try await JSONBody.decode(Body.self, from: request)
        let identity = try context.requireIdentity()
        let id = try context.parameters.require("id")
        guard body.codes != nil || body.generate != nil else {
            throw APIError(.badRequest, code: "missing_field", message: "give 'codes' (a list) or 'generate' ({\"count\": 1000})", field: "codes")
        }
        var answer = AddedView()
        if let codes = body.codes {
            let result = try await promoCodes.add(codes.joined(separator: "\n"), to: id, by: identity)
            answer.added = result.added
            answer.present = result.present
            answer.rejected = result.rejected.map { .init(index: $0.line - 1, message: $0.message) }
        }
        if let generate = body.generate {
            answer.generated = try await promoCodes.generate(generate.count, prefix: generate.prefix ?? "", length: generate.length ?? 8, in: id, by: identity)
        }
        return try JSONBody.response(answer)
    }

    struct AddedView: Encodable {
        struct Rejected: Encodable { let index: Int, message: String }
        var added = 0, present = 0, generated = 0
        var rejected: [Rejected] = []
    }
}
