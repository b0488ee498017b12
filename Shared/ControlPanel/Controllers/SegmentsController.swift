import Audiences
import CustomerData
import DataJobs
import Foundation
import Hummingbird
import Security
import ServiceSupport

/// Segments: `/databases/:id/segments` in the panel (rules built visually — or as JSON — with the
/// live count and a sample), `/api/v1/databases/:id/segments` and `/api/v1/segments/:sid` in the API.
struct SegmentsController {
    let segments: SegmentService
    let syncs: SegmentSyncService
    let customers: CustomerDataService
    let renderer: PanelRenderer

    func addRoutes(to router: Router<PanelRequestContext>) {
        router.get("/databases/:id/segments", use: list)
        router.post("/databases/:id/segments", use: create)
        router.get("/databases/:id/segments/:sid", use: show)
        router.post("/databases/:id/segments/preview", use: preview)
        router.post("/databases/:id/segments/:sid", use: update)
        router.post("/databases/:id/segments/:sid/freeze", use: freeze)
        router.post("/databases/:id/segments/:sid/delete", use: delete)
        router.post("/databases/:id/profiles/:pid/segments", use: addFromCard)
        router.post("/databases/:id/segments/:sid/syncs", use: createSync)
        router.post("/databases/:id/segments/:sid/syncs/:yid/run", use: runSync)
        router.post("/databases/:id/segments/:sid/syncs/:yid/delete", use: deleteSync)
        router.get("/api/v1/databases/:id/segments", use: apiList)
        router.post("/api/v1/databases/:id/segments", use: apiCreate)
        router.get("/api/v1/segments/:sid", use: apiGet)
        router.put("/api/v1/segments/:sid", use: apiUpdate)
        router.delete("/api/v1/segments/:sid", use: apiDelete)
        router.post("/api/v1/databases/:id/segments/preview", use: preview)
        router.get("/api/v1/segments/:sid/profiles", use: apiSample)
        router.get("/api/v1/segments/:sid/members/:pid", use: apiContains)
        router.post("/api/v1/segments/:sid/freeze", use: apiFreeze)
        router.post("/api/v1/segments/:sid/members", use: apiAdd)
        router.delete("/api/v1/segments/:sid/members/:pid", use: apiRemove)
        router.get("/api/v1/segments/:sid/syncs", use: apiSyncs)
        router.post("/api/v1/segments/:sid/syncs", use: apiCreateSync)
        router.get("/api/v1/segment-syncs/:yid", use: apiSync)
        router.post("/api/v1/segment-syncs/:yid/run", use: apiRunSync)
        router.delete("/api/v1/segment-syncs/:yid", use: apiDeleteSync)
    }

    static let example = #"{"all": [{"field": "city", "op": "eq", "value": "Oslo"}, {"subscription": {"channel": "email", "status": "active"}}]}"#

    static func rule(_ text: String) throws -> SegmentRule {
        do {
            return try JSONDecoder().decode(SegmentRule.self, from: Data(text.utf8))
        } catch {
            throw InvalidInput("rule", "rule_invalid", "not a rule: \(error)")
        }
    }

    /// What the builder needs to offer only what fits: fields with their operators, channels,
    /// statuses, the database's other segments, relation kinds, event kinds, and its labels.
    func builderSchema(_ database: ProfileDatabase, except segmentId: String?, context: PanelRequestContext) async throws -> String {
        let catalog = renderer.catalogs[context.language]
        func describe(_ field: FieldDefinition) -> [String: Any] {
            ["key": field.key, "title": field.title, "type": field.type.rawValue, "options": field.options,
             "operators": RuleChecker.allowed(field.type).map(\.rawValue).sorted(), "columns": field.columns.map(describe)]
        }
        let others = try await segments.list(in: database._id, for: try context.requireIdentity()).filter { $0._id != segmentId }
        let schema: [String: Any] = [
            "fields": database.fields.map(describe),
            "channels": Subscription.Channel.allCases.map(\.rawValue), "statuses": Subscription.Status.allCases.map(\.rawValue),
            "segments": others.map { ["id": $0._id, "name": $0.name] },
            "relationKinds": ProfileRelation.standardKinds, "activityKinds": Self.activityKinds,
            "aggregates": TableRule.Aggregate.allCases.map(\.rawValue), "comparisons": CheckedRule.Comparison.allCases.map(\.rawValue),
            "labels": Dictionary(uniqueKeysWithValues: Self.builderLabels.map { ($0, catalog.text("builder." + $0)) }),
        ]
        return String(decoding: try JSONSerialization.data(withJSONObject: schema, options: [.sortedKeys]), as: UTF8.self)
    }

    static let activityKinds = ["message.sent", "message.delivered", "message.opened", "message.clicked", "message.bounced", "message.*",
                                "site.visit", "site.event", "goal.reached", "form.submitted", "promo.issued", "promo.redeemed", "profile.created", "profile.updated"]
    static let builderLabels = ["all", "any", "not", "add_condition", "add_group", "remove", "field", "subscription", "activity", "table", "segment", "related",
                                "channel", "status", "any_status", "resource", "kind", "where", "property", "value", "within_last_days", "count", "aggregate",
                                "column", "date_column", "direction", "outgoing", "incoming", "either", "who", "matching", "errors", "json", "yes", "no", "none"]

    /// The live count and sample of an unsaved rule (panel, with the session's CSRF token in a
    /// header, and API): 200 with both, or 422 with every error at its place.
    @Sendable func preview(_ request: Request, context: PanelRequestContext) async throws -> Response {
        struct PreviewBody: Decodable { let rule: SegmentRule }
        struct Answer: Encodable {
            struct Sample: Encodable { let id: String, title: String }
            let count: Int, sample: [Sample]
        }
        struct Refusal: Encodable {
            struct Detail: Encodable { let code: String, message: String, field: String }
            struct Place: Encodable { let path: String, message: String }
            let error: Detail, errors: [Place]
        }
        let identity = try context.requireIdentity()
        try identity.require(.segments, .view)
        let body = try await JSONBody.decode(PreviewBody.self, from: request)
        switch try await segments.preview(body.rule, in: try context.parameters.require("id"), for: identity) {
        case .matches(let count, let sample, let database):
            return try JSONBody.response(Answer(count: count, sample: sample.map { .init(id: $0._id, title: CustomerDataService.title(of: $0, in: database)) }))
        case .invalid(let failure):
            return try JSONBody.response(Refusal(error: .init(code: "rule_invalid", message: failure.description, field: failure.errors[0].path),
                                                 errors: failure.errors.map { .init(path: $0.path, message: $0.message) }), status: .unprocessableContent)
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
                                     "schema": try await builderSchema(database, except: nil, context: context),
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

    func showPage(_ id: String, _ sid: String, context: PanelRequestContext, draft: String? = nil, error: String? = nil, syncError: String? = nil,
                  status: HTTPResponse.Status = .ok) async throws -> Response {
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
            "schema": try await builderSchema(database, except: segment._id, context: context),
            "canExport": identity.can(.profiles, .export), "canCopy": identity.can(.profiles, .import) && identity.can(.profiles, .export),
            "databases": try await customers.list(for: identity).filter { $0._id != database._id }.map { ["id": $0._id, "name": $0.name] },
            "fields": database.fields.filter { $0.type != .table }.map { ["key": $0.key, "title": $0.title] },
            "syncs": identity.can(.profiles, .export) ? try await syncs.list(for: sid, by: identity).map { sync -> [String: Any] in
                ["id": sync._id, "name": sync.name, "url": SQLSync.redacted(sync.url), "table": sync.table, "mode": sync.mode.rawValue, "every": sync.intervalMinutes,
                 "fields": sync.fields.joined(separator: ", "),
                 "last": sync.lastRun.map { ($0.succeeded ? "✓ " : "✗ ") + $0.at.formatted(.iso8601) + " · " + $0.message } ?? "—"]
            } : [],
            "syncError": syncError ?? "",
            "sendingCopies": try await segments.sendingCopies(of: sid, for: identity).map { copy -> [String: Any] in
                ["id": copy._id, "sending": copy.sendingId ?? "", "at": (copy.frozenAt ?? copy.createdAt).formatted(.iso8601)]
            },
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

    @Sendable func createSync(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id"), sid = try context.parameters.require("sid")
        let form = try await FormData.read(request, context: context)
        do {
            _ = try await syncs.create(for: sid, name: form["name"] ?? "", url: form["url"] ?? "", table: form["table"] ?? "", fields: form.values("fields"),
                                       mode: SegmentSync.Mode(rawValue: form["mode"] ?? "") ?? .full, intervalMinutes: Int(form["every"] ?? "") ?? 0,
                                       by: try context.requireIdentity())
        } catch let error as InvalidInput {
            return try await showPage(id, sid, context: context, syncError: renderer.message(error.key, error.arguments, context: context), status: .unprocessableContent)
        }
        return .redirect(to: "/databases/\(id)/segments/\(sid)#syncs", type: .normal)
    }

    @Sendable func runSync(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id"), sid = try context.parameters.require("sid")
        try await syncs.runNow(try context.parameters.require("yid"), by: try context.requireIdentity())
        return .redirect(to: "/databases/\(id)/segments/\(sid)#syncs", type: .normal)
    }

    @Sendable func deleteSync(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id"), sid = try context.parameters.require("sid")
        try await syncs.delete(try context.parameters.require("yid"), by: try context.requireIdentity())
        return .redirect(to: "/databases/\(id)/segments/\(sid)#syncs", type: .normal)
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
        /// For a freeze: the sending the copy is for (made once per sending).
        let sendingId: String?
    }

    struct SegmentView: Encodable {
        let id: String, databaseId: String, name: String, kind: String, ruleVersion: Int, rule: SegmentRule?, count: Int?, createdAt: Date, updatedAt: Date
        let frozenFrom: String?, frozenAt: Date?, sendingId: String?
        init(_ segment: Segment, count: Int? = nil) {
            id = segment._id; databaseId = segment.databaseId; name = segment.name; kind = segment.kind.rawValue; ruleVersion = segment.ruleVersion
            rule = segment.rule; self.count = count; createdAt = segment.createdAt; updatedAt = segment.updatedAt
            frozenFrom = segment.frozenFrom; frozenAt = segment.frozenAt; sendingId = segment.sendingId
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
        let frozen = try await segments.freeze(try context.parameters.require("sid"), name: body.name ?? "", sendingId: body.sendingId, by: identity)
        return try JSONBody.response(SegmentView(frozen, count: try await segments.count(frozen._id, for: identity)), status: .created)
    }

    /// Whether one profile is in the segment now (`{"member": true}`), decided the way triggers
    /// decide: the rule evaluated in process over the profile and what it needs.
    @Sendable func apiContains(_ request: Request, context: PanelRequestContext) async throws -> Response {
        struct Membership: Encodable { let member: Bool }
        let member = try await segments.contains(try context.parameters.require("pid"), in: try context.parameters.require("sid"), for: try context.requireIdentity())
        return try JSONBody.response(Membership(member: member))
    }

    struct MemberBody: Decodable { let profileId: String }

    struct SyncBody: Decodable {
        let name: String
        let url: String
        let table: String
        let fields: [String]?
        let mode: SegmentSync.Mode?
        let intervalMinutes: Int?
    }

    struct SyncView: Encodable {
        let id: String, segmentId: String, name: String, url: String, table: String, fields: [String], mode: String, intervalMinutes: Int
        let lastRun: SegmentSync.Run?, createdAt: Date
        init(_ sync: SegmentSync) {
            id = sync._id; segmentId = sync.segmentId; name = sync.name; url = SQLSync.redacted(sync.url); table = sync.table; fields = sync.fields
            mode = sync.mode.rawValue; intervalMinutes = sync.intervalMinutes; lastRun = sync.lastRun; createdAt = sync.createdAt
        }
    }

    @Sendable func apiSyncs(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.profiles, .export)
        return try JSONBody.response(ListView(items: try await syncs.list(for: try context.parameters.require("sid"), by: identity).map(SyncView.init)))
    }

    @Sendable func apiCreateSync(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.profiles, .export)
        let body = try await JSONBody.decode(SyncBody.self, from: request)
        let sync = try await syncs.create(for: try context.parameters.require("sid"), name: body.name, url: body.url, table: body.table, fields: body.fields ?? [],
                                          mode: body.mode ?? .full, intervalMinutes: body.intervalMinutes ?? 60, by: identity)
        return try JSONBody.response(SyncView(sync), status: .created)
    }

    @Sendable func apiSync(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(SyncView(try await syncs.sync(try context.parameters.require("yid"), for: try context.requireIdentity())))
    }

    @Sendable func apiRunSync(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await syncs.runNow(try context.parameters.require("yid"), by: try context.requireIdentity())
        return Response(status: .accepted)
    }

    @Sendable func apiDeleteSync(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await syncs.delete(try context.parameters.require("yid"), by: try context.requireIdentity())
        return Response(status: .noContent)
    }

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
