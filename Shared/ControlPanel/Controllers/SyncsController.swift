import CustomerData
import DataJobs
import Foundation
import Hummingbird
import Security
import ServiceSupport

/// Scheduled SQL imports: `/databases/:id/syncs` in the panel, `/api/v1/databases/:id/syncs` and
/// `/api/v1/syncs/:sid` in the API.
struct SyncsController {
    let syncs: SyncService
    let imports: ImportService
    let customers: CustomerDataService
    let renderer: PanelRenderer

    func addRoutes(to router: Router<PanelRequestContext>) {
        router.get("/databases/:id/syncs", use: page)
        router.post("/databases/:id/syncs", use: create)
        router.post("/databases/:id/syncs/:sid/run", use: run)
        router.post("/databases/:id/syncs/:sid/delete", use: delete)
        router.get("/api/v1/databases/:id/syncs", use: apiList)
        router.post("/api/v1/databases/:id/syncs", use: apiCreate)
        router.get("/api/v1/syncs/:sid", use: apiGet)
        router.delete("/api/v1/syncs/:sid", use: apiDelete)
        router.post("/api/v1/syncs/:sid/run", use: apiRun)
    }

    func pageResponse(_ id: String, context: PanelRequestContext, extra: [String: Any] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.profiles, .import)
        let database = try await customers.database(id, for: identity)
        let catalog = renderer.catalogs[context.language]
        var rows: [[String: Any]] = []
        for sync in try await syncs.list(in: id, for: identity) {
            let last = try await sync.lastJobId.asyncMap { try await imports.jobs.jobs.findOne(["_id": .string($0)]) } ?? nil
            rows.append(["id": sync._id, "name": sync.name, "url": sync.redactedURL, "every": sync.cron.map { "cron \($0) (\(sync.timeZone ?? "UTC"))" } ?? "\(sync.intervalMinutes) min", "cursor": sync.cursorColumn,
                         "lastCursor": sync.lastCursor ?? "—", "last": last.map { catalog.text("imports.state_" + $0.state.rawValue) + " · " + $0.message } ?? "—",
                         "lastJob": last?._id ?? ""])
        }
        var values: [String: Any] = ["database": ["id": database._id, "name": database.name] as [String: Any], "syncs": rows,
                                     "modes": ImportsController.modes(catalog, selected: .upsert)]
        values.merge(extra) { $1 }
        return renderer.page("syncs", title: "syncs.title", values: values, context: context, status: status, active: "databases")
    }

    @Sendable func page(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await pageResponse(try context.parameters.require("id"), context: context)
    }

    /// `column: field` lines.
    static func mapping(_ text: String) throws -> [String: String] {
        var mapping: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw InvalidInput("mapping", "invalid_value", "'\(line)': write column: field") }
            mapping[parts[0]] = parts[1]
        }
        return mapping
    }

    @Sendable func create(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let form = try await FormData.read(request, context: context)
        do {
            _ = try await syncs.create(in: id, name: form["name"] ?? "", url: form["url"] ?? "", query: form["query"] ?? "", cursorColumn: form["cursor"] ?? "",
                                       mapping: try Self.mapping(form["mapping"] ?? ""), mode: ProfileWriter.Mode(rawValue: form["mode"] ?? "") ?? .upsert,
                                       intervalMinutes: try form.optionalInt("every") ?? 60, cron: form["cron"], timeZone: form["timeZone"],
                                       by: try context.requireIdentity())
        } catch let error as InvalidInput {
            return try await pageResponse(id, context: context, extra: ["error": error.field + ": " + renderer.message(error.key, error.arguments, context: context)],
                                          status: .unprocessableContent)
        }
        return .redirect(to: "/databases/\(id)/syncs", type: .normal)
    }

    @Sendable func run(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        try await syncs.runNow(try context.parameters.require("sid"), by: try context.requireIdentity())
        return .redirect(to: "/databases/\(id)/syncs", type: .normal)
    }

    @Sendable func delete(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        try await syncs.delete(try context.parameters.require("sid"), by: try context.requireIdentity())
        return .redirect(to: "/databases/\(id)/syncs", type: .normal)
    }

    struct Body: Decodable {
        let name: String
        let url: String
        let query: String
        let cursorColumn: String
        let mapping: [String: String]
        let mode: ProfileWriter.Mode?
        let intervalMinutes: Int?
        let cron: String?
        let timeZone: String?
    }

    struct SyncView: Encodable {
        let id: String, databaseId: String, name: String, url: String, query: String, cursorColumn: String, lastCursor: String?
        let mapping: [String: String], mode: String, intervalMinutes: Int, cron: String?, timeZone: String?, nextRun: Date?, lastJobId: String?
        init(_ sync: SQLSync) {
            id = sync._id; databaseId = sync.databaseId; name = sync.name; url = sync.redactedURL; query = sync.query; cursorColumn = sync.cursorColumn
            lastCursor = sync.lastCursor; mapping = sync.mapping; mode = sync.mode.rawValue; intervalMinutes = sync.intervalMinutes
            cron = sync.cron; timeZone = sync.timeZone
            nextRun = sync.nextRun > 0 ? Date(timeIntervalSince1970: Double(sync.nextRun)) : nil; lastJobId = sync.lastJobId
        }
    }

    @Sendable func apiList(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.profiles, .import)
        return try JSONBody.response(ListView(items: try await syncs.list(in: try context.parameters.require("id"), for: identity).map(SyncView.init)))
    }

    @Sendable func apiCreate(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.profiles, .import)
        let body = try await JSONBody.decode(Body.self, from: request)
        let sync = try await syncs.create(in: try context.parameters.require("id"), name: body.name, url: body.url, query: body.query, cursorColumn: body.cursorColumn,
                                          mapping: body.mapping, mode: body.mode ?? .upsert, intervalMinutes: body.intervalMinutes ?? 60,
                                          cron: body.cron, timeZone: body.timeZone, by: identity)
        return try JSONBody.response(SyncView(sync), status: .created)
    }

    @Sendable func apiGet(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(SyncView(try await syncs.sync(try context.parameters.require("sid"), for: try context.requireIdentity())))
    }

    @Sendable func apiDelete(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await syncs.delete(try context.parameters.require("sid"), by: try context.requireIdentity())
        return Response(status: .noContent)
    }

    @Sendable func apiRun(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let sid = try context.parameters.require("sid")
        try await syncs.runNow(sid, by: identity)
        return try JSONBody.response(SyncView(try await syncs.sync(sid, for: identity)), status: .accepted)
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
