import Audiences
import CustomerData
import Foundation
import Hummingbird
import Security
import ServiceSupport

/// Segments: `/databases/:id/segments` in the panel (rules edited as JSON for now, with the live
/// count and a sample), `/api/v1/databases/:id/segments` and `/api/v1/segments/:sid` in the API.
struct SegmentsController {
    let segments: SegmentService
    let customers: CustomerDataService
    let renderer: PanelRenderer

    func addRoutes(to router: Router<PanelRequestContext>) {
        router.get("/databases/:id/segments", use: list)
        router.post("/databases/:id/segments", use: create)
        router.get("/databases/:id/segments/:sid", use: show)
        router.post("/databases/:id/segments/:sid", use: update)
        router.post("/databases/:id/segments/:sid/freeze", use: freeze)
        router.post("/databases/:id/segments/:sid/delete", use: delete)
        router.post("/databases/:id/profiles/:pid/segments", use: addFromCard)
        router.get("/api/v1/databases/:id/segments", use: apiList)
        router.post("/api/v1/databases/:id/segments", use: apiCreate)
        router.get("/api/v1/segments/:sid", use: apiGet)
        router.put("/api/v1/segments/:sid", use: apiUpdate)
        router.delete("/api/v1/segments/:sid", use: apiDelete)
        router.get("/api/v1/segments/:sid/profiles", use: apiSample)
        router.post("/api/v1/segments/:sid/freeze", use: apiFreeze)
        router.post("/api/v1/segments/:sid/members", use: apiAdd)
        router.delete("/api/v1/segments/:sid/members/:pid", use: apiRemove)
    }

    static let example = #"{"all": [{"field": "city", "op": "eq", "value": "Oslo"}, {"subscription": {"channel": "email", "status": "active"}}]}"#

    static func rule(_ text: String) throws -> SegmentRule {
        do {
            return try JSONDecoder().decode(SegmentRule.self, from: Data(text.utf8))
        } catch {
            throw InvalidInput("rule", "rule_invalid", "not a rule: \(error)")
        }
    }

    func listPage(_ id: String, context: PanelRequestContext, extra: [String: Any] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = try context.requireIdentity()
        let database = try await customers.database(id, for: identity)
        var rows: [[String: Any]] = []
        for segment in try await segments.list(in: id, for: identity) {
            rows.append(["id": segment._id, "name": segment.name, "kind": renderer.catalogs[context.language].text("segments.kind_" + segment.kind.rawValue),
                         "count": (try? await segments.count(segment._id, for: identity)) ?? 0])
        }
        var values: [String: Any] = ["database": ["id": database._id, "name": database.name] as [String: Any], "segments": rows, "example": Self.example,
                                     "canCreate": identity.can(.segments, .create)]
        values.merge(extra) { $1 }
        return renderer.page("segments", title: "segments.title", values: values, context: context, status: status, active: "databases")
    }

    @Sendable func list(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await listPage(try context.parameters.require("id"), context: context)
    }

    @Sendable func create(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let form = try await FormData.read(request, context: context)
        do {
            let kind = Segment.Kind(rawValue: form["kind"] ?? "") ?? .dynamic
            let segment = try await segments.create(in: id, name: form["name"] ?? "", kind: kind, rule: kind == .dynamic ? try Self.rule(form["rule"] ?? "") : nil,
                                                    by: try context.requireIdentity())
            return .redirect(to: "/databases/\(id)/segments/\(segment._id)", type: .normal)
        } catch let error as InvalidInput {
            return try await listPage(id, context: context, extra: ["error": renderer.message(error.key, error.arguments, context: context)], status: .unprocessableContent)
        }
    }

    func showPage(_ id: String, _ sid: String, context: PanelRequestContext, draft: String? = nil, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = try context.requireIdentity()
        let (segment, database) = try await segments.segment(sid, for: identity)
        guard database._id == id else { throw ObjectNotFound("segment", sid) }
        let sample = identity.can(.profiles, .view) ? try await segments.sample(sid, for: identity) : []
        let stored = try SegmentService.json(segment.rule) ?? ""
        return renderer.page("segment", title: "segments.segment_title", values: [
            "database": ["id": database._id, "name": database.name] as [String: Any],
            "segment": ["id": segment._id, "name": segment.name, "dynamic": segment.kind == .dynamic,
                        "kind": renderer.catalogs[context.language].text("segments.kind_" + segment.kind.rawValue),
                        "rule": draft ?? stored] as [String: Any],
            "count": try await segments.count(sid, for: identity),
            "sample": sample.map { ["id": $0._id, "title": CustomerDataService.title(of: $0, in: database)] },
            "canEdit": identity.can(.segments, .edit), "canDelete": identity.can(.segments, .delete), "error": error ?? "",
        ], context: context, status: status, active: "databases")
    }

    @Sendable func show(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await showPage(try context.parameters.require("id"), try context.parameters.require("sid"), context: context)
    }

    @Sendable func update(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id"), sid = try context.parameters.require("sid")
        let form = try await FormData.read(request, context: context)
        do {
            let rule = try (form["rule"]).map { $0.isEmpty ? nil : try Self.rule($0) } ?? nil
            _ = try await segments.update(sid, name: form["name"], rule: rule, by: try context.requireIdentity())
        } catch let error as InvalidInput {
            return try await showPage(id, sid, context: context, draft: form["rule"], error: renderer.message(error.key, error.arguments, context: context),
                                      status: .unprocessableContent)
        }
        return .redirect(to: "/databases/\(id)/segments/\(sid)", type: .normal)
    }

    @Sendable func freeze(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id"), sid = try context.parameters.require("sid")
        let form = try await FormData.read(request, context: context)
        let frozen = try await segments.freeze(sid, name: form["name"] ?? "", by: try context.requireIdentity())
        return .redirect(to: "/databases/\(id)/segments/\(frozen._id)", type: .normal)
    }

    @Sendable func delete(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        try await segments.delete(try context.parameters.require("sid"), by: try context.requireIdentity())
        return .redirect(to: "/databases/\(id)/segments", type: .normal)
    }

    /// The card's "Add to a fixed segment".
    @Sendable func addFromCard(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id"), pid = try context.parameters.require("pid")
        let form = try await FormData.read(request, context: context)
        try await segments.add(pid, to: form["segment"] ?? "", by: try context.requireIdentity())
        return .redirect(to: "/databases/\(id)/profiles/\(pid)?notice=saved", type: .normal)
    }

    // MARK: API

    struct Body: Decodable {
        let name: String?
        let kind: Segment.Kind?
        let rule: SegmentRule?
    }

    struct SegmentView: Encodable {
        let id: String, databaseId: String, name: String, kind: String, ruleVersion: Int, rule: SegmentRule?, count: Int?, createdAt: Date, updatedAt: Date
        init(_ segment: Segment, count: Int? = nil) {
            id = segment._id; databaseId = segment.databaseId; name = segment.name; kind = segment.kind.rawValue; ruleVersion = segment.ruleVersion
            rule = segment.rule; self.count = count; createdAt = segment.createdAt; updatedAt = segment.updatedAt
        }
    }

    @Sendable func apiList(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        var views: [SegmentView] = []
        for segment in try await segments.list(in: try context.parameters.require("id"), for: identity) {
            views.append(SegmentView(segment, count: try await segments.count(segment._id, for: identity)))
        }
        return try JSONBody.response(ListView(items: views))
    }

    @Sendable func apiCreate(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.segments, .create)
        let body = try await JSONBody.decode(Body.self, from: request)
        let segment = try await segments.create(in: try context.parameters.require("id"), name: body.name ?? "", kind: body.kind ?? .dynamic, rule: body.rule, by: identity)
        return try JSONBody.response(SegmentView(segment, count: try await segments.count(segment._id, for: identity)), status: .created)
    }

    @Sendable func apiGet(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let sid = try context.parameters.require("sid")
        return try JSONBody.response(SegmentView(try await segments.segment(sid, for: identity).0, count: try await segments.count(sid, for: identity)))
    }

    @Sendable func apiUpdate(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.segments, .edit)
        let body = try await JSONBody.decode(Body.self, from: request)
        let sid = try context.parameters.require("sid")
        return try JSONBody.response(SegmentView(try await segments.update(sid, name: body.name, rule: body.rule, by: identity), count: try await segments.count(sid, for: identity)))
    }

    @Sendable func apiDelete(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await segments.delete(try context.parameters.require("sid"), by: try context.requireIdentity())
        return Response(status: .noContent)
    }

    @Sendable func apiSample(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let limit = min(1000, max(1, Int(request.uri.queryParameters["limit"].map(String.init) ?? "") ?? 20))
        return try JSONBody.response(ListView(items: try await segments.sample(try context.parameters.require("sid"), limit: limit, for: try context.requireIdentity()).map(ProfileView.init)))
    }

    @Sendable func apiFreeze(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.segments, .create)
        let body = try await JSONBody.decode(Body.self, from: request)
        let frozen = try await segments.freeze(try context.parameters.require("sid"), name: body.name ?? "", by: identity)
        return try JSONBody.response(SegmentView(frozen, count: try await segments.count(frozen._id, for: identity)), status: .created)
    }

    struct MemberBody: Decodable { let profileId: String }

    @Sendable func apiAdd(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.segments, .edit)
        let body = try await JSONBody.decode(MemberBody.self, from: request)
        try await segments.add(body.profileId, to: try context.parameters.require("sid"), by: identity)
        return Response(status: .noContent)
    }

    @Sendable func apiRemove(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await segments.remove(try context.parameters.require("pid"), from: try context.parameters.require("sid"), by: try context.requireIdentity())
        return Response(status: .noContent)
    }
}
