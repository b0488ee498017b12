import CustomerData
import Foundation
import Hummingbird
import Security
import ServiceSupport

/// The stop list: `/stop-list` in the panel, `/api/v1/stop-list` in the API.
struct StopListController {
    let stopList: StopListService
    let renderer: PanelRenderer

    func addRoutes(to router: Router<PanelRequestContext>) {
        router.get("/stop-list", use: page)
        router.post("/stop-list", use: add)
        router.post("/stop-list/remove", use: remove)
        router.post("/stop-list/import", use: importLines)
        router.get("/stop-list/export", use: export)
        router.get("/api/v1/stop-list", use: apiList)
        router.post("/api/v1/stop-list", use: apiAdd)
        router.delete("/api/v1/stop-list/:kind/:value", use: apiRemove)
        router.post("/api/v1/stop-list/import", use: apiImport)
        router.get("/api/v1/stop-list/export", use: export)
    }

    func pageResponse(_ request: Request, context: PanelRequestContext, extra: [String: Any] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = try context.requireIdentity()
        let query = request.uri.queryParameters["q"].map(String.init) ?? ""
        let kind = request.uri.queryParameters["kind"].flatMap { StopListEntry.Kind(rawValue: String($0)) }
        let page = max(0, Int(request.uri.queryParameters["page"].map(String.init) ?? "") ?? 0)
        let (entries, total) = try await stopList.search(query, kind: kind, skip: page * 100, limit: 100, for: identity)
        var values: [String: Any] = [
            "entries": entries.map { ["kind": $0.kind.rawValue, "value": $0.value, "reason": $0.reason, "source": $0.source.rawValue,
                                      "at": $0.createdAt.formatted(.iso8601), "by": $0.createdBy] },
            "total": total, "q": query, "kinds": StopListEntry.Kind.allCases.map { ["value": $0.rawValue, "selected": $0 == kind] },
            "next": (page + 1) * 100 < total ? page + 1 : 0, "previous": page > 0 ? page - 1 : -1, "hasPrevious": page > 0, "hasNext": (page + 1) * 100 < total,
            "canEdit": identity.can(.channels, .edit),
        ]
        values.merge(extra) { $1 }
        return renderer.page("stop_list", title: "stop_list.title", values: values, context: context, status: status, active: "stop_list")
    }

    @Sendable func page(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await pageResponse(request, context: context)
    }

    @Sendable func add(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let form = try await FormData.read(request, context: context)
        do {
            _ = try await stopList.add(form["value"] ?? "", kind: StopListEntry.Kind(rawValue: form["kind"] ?? "") ?? .address, reason: form["reason"] ?? "",
                                       by: try context.requireIdentity())
        } catch let error as InvalidInput {
            return try await pageResponse(request, context: context, extra: ["error": renderer.message(error.key, error.arguments, context: context)], status: .unprocessableContent)
        }
        return .redirect(to: "/stop-list?notice=saved", type: .normal)
    }

    @Sendable func remove(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let form = try await FormData.read(request, context: context)
        do {
            try await stopList.remove(form["value"] ?? "", kind: StopListEntry.Kind(rawValue: form["kind"] ?? "") ?? .address, reason: form["reason"] ?? "",
                                      by: try context.requireIdentity())
        } catch let error as InvalidInput {
            return try await pageResponse(request, context: context, extra: ["error": renderer.message(error.key, error.arguments, context: context)], status: .unprocessableContent)
        }
        return .redirect(to: "/stop-list?notice=saved", type: .normal)
    }

    @Sendable func importLines(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let form = try await FormData.read(request, context: context)
        let result = try await stopList.importLines(form["lines"] ?? "", reason: form["reason"] ?? "", by: try context.requireIdentity())
        let message = renderer.message("stop_list_imported", [String(result.added), String(result.present), String(result.rejected.count)], context: context)
        let problems = result.rejected.prefix(50).map { "line \($0.line): \($0.message)" }.joined(separator: "\n")
        return try await pageResponse(request, context: context, extra: ["imported": message, "problems": problems])
    }

    @Sendable func export(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let csv = try await stopList.export(by: try context.requireIdentity())
        return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"stop-list.csv\""],
                        body: .init(byteBuffer: ByteBuffer(string: csv)))
    }

    // MARK: API

    struct EntryView: Encodable {
        let kind: String, value: String, reason: String, source: String, createdAt: Date, createdBy: String
        init(_ entry: StopListEntry) {
            kind = entry.kind.rawValue; value = entry.value; reason = entry.reason; source = entry.source.rawValue; createdAt = entry.createdAt; createdBy = entry.createdBy
        }
    }

    struct ListAnswer: Encodable { let items: [EntryView], total: Int }

    @Sendable func apiList(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let limit = min(1000, max(1, Int(request.uri.queryParameters["limit"].map(String.init) ?? "") ?? 100))
        let skip = max(0, Int(request.uri.queryParameters["skip"].map(String.init) ?? "") ?? 0)
        let kind = request.uri.queryParameters["kind"].flatMap { StopListEntry.Kind(rawValue: String($0)) }
        let (entries, total) = try await stopList.search(request.uri.queryParameters["q"].map(String.init) ?? "", kind: kind, skip: skip, limit: limit, for: identity)
        return try JSONBody.response(ListAnswer(items: entries.map(EntryView.init), total: total))
    }

    struct AddBody: Decodable { let kind: StopListEntry.Kind?, value: String, reason: String? }

    @Sendable func apiAdd(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.channels, .edit)
        let body = try await JSONBody.decode(AddBody.self, from: request)
        return try JSONBody.response(EntryView(try await stopList.add(body.value, kind: body.kind ?? .address, reason: body.reason ?? "", by: identity)), status: .created)
    }

    @Sendable func apiRemove(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.channels, .edit)
        guard let kind = StopListEntry.Kind(rawValue: try context.parameters.require("kind")) else { throw ObjectNotFound("stop_list", "") }
        let value = try context.parameters.require("value").removingPercentEncoding ?? ""
        try await stopList.remove(value, kind: kind, reason: request.uri.queryParameters["reason"].map(String.init) ?? "", by: identity)
        return Response(status: .noContent)
    }

    struct ImportAnswer: Encodable {
        struct Problem: Encodable { let line: Int, message: String }
        let added: Int, alreadyListed: Int, rejected: [Problem]
    }

    /// A text or CSV body of `value[,reason]` lines.
    @Sendable func apiImport(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.channels, .edit)
        let text = String(buffer: try await request.body.collect(upTo: 32 << 20))
        let result = try await stopList.importLines(text, reason: request.uri.queryParameters["reason"].map(String.init) ?? "import", by: identity)
        return try JSONBody.response(ImportAnswer(added: result.added, alreadyListed: result.present, rejected: result.rejected.map { .init(line: $0.line, message: $0.message) }))
    }
}
