import Foundation
import Hummingbird
import Security

/// The audit log: searchable at `/audit`, exported at `/audit.csv` (itself audited), and read
/// at `/api/v1/audit`.
struct AuditController {
    let audit: AuditLog
    let renderer: PanelRenderer

    func addRoutes(to router: Router<PanelRequestContext>) {
        router.get("/audit", use: page)
        router.get("/audit.csv", use: csv)
        router.get("/api/v1/audit", use: apiList)
    }

    func query(_ request: Request, limit: Int) -> AuditLog.Query {
        let q = request.uri.queryParameters
        func day(_ name: Substring) -> Date? {
            q[name].flatMap { try? Date(String($0) + "T00:00:00Z", strategy: Date.ISO8601FormatStyle()) }
        }
        let page = max(0, Int(q["page"].map(String.init) ?? "") ?? 0)
        return AuditLog.Query(action: q["action"].map(String.init), actor: q["actor"].map(String.init), objectKind: q["kind"].map(String.init),
                              text: q["q"].map(String.init), from: day("from"), to: day("to").map { $0.addingTimeInterval(86400) },
                              limit: limit, skip: page * limit)
    }

    func require(_ context: PanelRequestContext, _ action: Permission.Action) throws -> Identity {
        let identity = try context.requireIdentity()
        try identity.require(.audit, action)
        return identity
    }

    @Sendable func page(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try require(context, .view)
        let q = query(request, limit: 50)
        let entries = try await audit.search(q, in: identity.account._id).collect()
        let rows = entries.map { entry -> [String: Any] in
            ["at": entry.at.formatted(.iso8601), "actor": entry.actorLogin, "via": entry.via, "address": entry.address, "action": entry.action,
             "object": entry.objectKind + (entry.objectName.isEmpty ? "" : ": " + entry.objectName),
             "changes": entry.changes.map { ["field": $0.field, "before": $0.before ?? "—", "after": $0.after ?? "—"] }]
        }
        let params = request.uri.queryParameters
        let filters: [String: Any] = ["action": params["action"].map(String.init) ?? "", "actor": params["actor"].map(String.init) ?? "",
                                      "kind": params["kind"].map(String.init) ?? "", "q": params["q"].map(String.init) ?? "",
                                      "from": params["from"].map(String.init) ?? "", "to": params["to"].map(String.init) ?? ""]
        let pageNumber = q.skip / 50
        var query = request.uri.query ?? ""
        query = query.split(separator: "&").filter { !$0.hasPrefix("page=") }.joined(separator: "&")
        return renderer.page("audit", title: "audit.title", values: [
            "entries": rows, "f": filters, "canExport": identity.can(.audit, .export), "query": query,
            "next": entries.count == 50 ? String(pageNumber + 1) : "", "previous": pageNumber > 0 ? String(pageNumber - 1) : "",
        ], context: context, active: "audit")
    }

    @Sendable func csv(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try require(context, .export)
        let q = query(request, limit: 100_000)
        var lines = ["at,actor,via,address,action,object_kind,object_id,object_name,changes"]
        var count = 0
        for try await entry in audit.search(q, in: identity.account._id) {
            let changes = entry.changes.map { "\($0.field): \($0.before ?? "") → \($0.after ?? "")" }.joined(separator: "; ")
            lines.append([entry.at.formatted(.iso8601), entry.actorLogin, entry.via, entry.address, entry.action, entry.objectKind, entry.objectId,
                          entry.objectName, changes].map(AuditCSV.field).joined(separator: ","))
            count += 1
        }
        try await audit.record(identity.actor, "audit.export", kind: "audit", changes: [.init(field: "rows", before: nil, after: String(count))])
        return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"audit.csv\""],
                        body: .init(byteBuffer: ByteBuffer(string: lines.joined(separator: "\r\n") + "\r\n")))
    }

    @Sendable func apiList(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try require(context, .view)
        let limit = min(1000, max(1, Int(request.uri.queryParameters["limit"].map(String.init) ?? "") ?? 100))
        let entries = try await audit.search(query(request, limit: limit), in: identity.account._id).collect()
        return try JSONBody.response(ListView(items: entries.map(AuditView.init)))
    }
}
