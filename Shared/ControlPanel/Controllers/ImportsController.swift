import Audiences
import CustomerData
import DataJobs
import Foundation
import Hummingbird
import Security
import ServiceSupport

/// Imports: upload or paste, preview and map, start, watch, cancel, download rejected rows —
/// `/databases/:id/imports` in the panel, `/api/v1/databases/:id/imports` and `/api/v1/imports/:jid` in the API.
struct ImportsController {
    let imports: ImportService
    let customers: CustomerDataService
    let segments: SegmentService
    let renderer: PanelRenderer

    func addRoutes(to router: Router<PanelRequestContext>) {
        router.get("/databases/:id/imports", use: list)
        router.post("/databases/:id/imports/paste", use: paste)
        router.post("/databases/:id/imports/upload", use: upload)
        router.post("/databases/:id/imports/copy", use: copy)
        router.get("/databases/:id/imports/:jid", use: show)
        router.post("/databases/:id/imports/:jid/start", use: start)
        router.post("/databases/:id/imports/:jid/cancel", use: cancel)
        router.get("/databases/:id/imports/:jid/errors.csv", use: errors)
        router.post("/api/v1/databases/:id/imports", use: apiCreate)
        router.post("/api/v1/databases/:id/copies", use: apiCopy)
        router.get("/api/v1/imports/:jid", use: apiGet)
        router.post("/api/v1/imports/:jid/cancel", use: apiCancel)
        router.get("/api/v1/imports/:jid/errors", use: apiErrors)
    }

    static func modes(_ catalog: Catalog, selected: ProfileWriter.Mode) -> [[String: Any]] {
        ProfileWriter.Mode.allCases.map { ["value": $0.rawValue, "label": catalog.text("imports.mode_" + $0.rawValue), "selected": $0 == selected] }
    }

    static func jobValues(_ job: ImportJob, catalog: Catalog) -> [String: Any] {
        let c = job.counters
        return ["id": job._id, "file": job.fileName, "format": job.format.rawValue, "state": job.state.rawValue,
                "stateLabel": catalog.text("imports.state_" + job.state.rawValue), "running": job.state == .queued || job.state == .running,
                "finished": job.state.isFinished, "uploaded": job.state == .uploaded, "read": c.read, "created": c.created, "updated": c.updated,
                "unchanged": c.unchanged, "skipped": c.skipped, "rejected": c.rejected, "message": job.message, "by": job.createdBy,
                "created_at": job.createdAt.formatted(.iso8601), "size": ByteCountFormatter.string(fromByteCount: job.size, countStyle: .file),
                "mode": catalog.text("imports.mode_" + job.mode.rawValue)]
    }

    func listPage(_ id: String, context: PanelRequestContext, extra: [String: Any] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = try context.requireIdentity()
        let database = try await customers.database(id, for: identity)
        let catalog = renderer.catalogs[context.language]
        let sources = try await customers.list(for: identity).filter { $0._id != database._id }
        var values: [String: Any] = [
            "database": ["id": database._id, "name": database.name] as [String: Any],
            "jobs": try await imports.list(in: id, for: identity).map { Self.jobValues($0, catalog: catalog) },
            "canImport": identity.can(.profiles, .import),
            "sources": sources.map { ["id": $0._id, "name": $0.name] },
            "canCopy": identity.can(.profiles, .import) && identity.can(.profiles, .export) && !sources.isEmpty,
        ]
        values.merge(extra) { $1 }
        return renderer.page("imports", title: "imports.title", values: values, context: context, status: status, active: "databases")
    }

    @Sendable func list(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await listPage(try context.parameters.require("id"), context: context)
    }

    /// Pasted from a spreadsheet or a text file: tab- or comma-separated text.
    @Sendable func paste(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let form = try await FormData.read(request, context: context)
        do {
            let text = form["text"] ?? ""
            let format: ImportJob.Format = text.contains("\t") ? .txt : .csv
            let job = try await imports.upload(fileName: "pasted.\(format.rawValue)", format: format, into: id, body: ByteBlocks.single(Array(text.utf8)),
                                               by: try context.requireIdentity())
            return .redirect(to: "/databases/\(id)/imports/\(job._id)", type: .normal)
        } catch let error as InvalidInput {
            return try await listPage(id, context: context, extra: ["error": renderer.message(error.key, error.arguments, context: context)], status: .unprocessableContent)
        }
    }

    @Sendable func copy(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let form = try await FormData.read(request, context: context)
        do {
            let identity = try context.requireIdentity()
            let segment = try await (form["segment"]).flatMap { $0.isEmpty ? nil : $0 }.asyncMap { try await segments.segment($0, for: identity).0 }
            let job = try await imports.copy(from: form["source"] ?? "", into: id, segment: segment, by: identity)
            return .redirect(to: "/databases/\(id)/imports/\(job._id)", type: .normal)
        } catch let error as InvalidInput {
            return try await listPage(id, context: context, extra: ["error": renderer.message(error.key, error.arguments, context: context)], status: .unprocessableContent)
        }
    }

    struct CopyBody: Decodable {
        let sourceDatabaseId: String
        /// Only this segment's profiles of the source.
        let sourceSegmentId: String?
        let mode: ProfileWriter.Mode?
        /// Source field key → target field key; omitted: fields with the same key.
        let mapping: [String: String]?
    }

    /// Copies every profile of another database into this one, as an import job.
    @Sendable func apiCopy(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.profiles, .import)
        let body = try await JSONBody.decode(CopyBody.self, from: request)
        let segment = try await body.sourceSegmentId.asyncMap { try await segments.segment($0, for: identity).0 }
        let job = try await imports.copy(from: body.sourceDatabaseId, into: try context.parameters.require("id"), segment: segment, by: identity)
        var mapping = job.mapping
        if let explicit = body.mapping {
            mapping = mapping.map { ImportJob.ColumnMapping(column: $0.column, header: $0.header, field: explicit[$0.header] ?? "") }
        }
        return try JSONBody.response(JobView(try await imports.start(job._id, mapping: mapping, mode: body.mode ?? .upsert, hasHeader: true, by: identity)), status: .accepted)
    }

    /// The file as the request body (the page's script sends it with `fetch`, streamed: memory
    /// stays flat); the name in `?name=`. Answers where the mapping page is.
    @Sendable func upload(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let name = request.uri.queryParameters["name"].map(String.init) ?? ""
        do {
            let job = try await imports.upload(fileName: name, format: nil, into: id, body: request.body.map { Array(buffer: $0) }, by: try context.requireIdentity())
            struct Answer: Encodable { let id: String; let location: String }
            return try JSONBody.response(Answer(id: job._id, location: "/databases/\(id)/imports/\(job._id)"), status: .created)
        } catch let error as InvalidInput {
            throw APIError(.unprocessableContent, code: "invalid_field", message: renderer.message(error.key, error.arguments, context: context), field: error.field)
        }
    }

    func showPage(_ id: String, _ jid: String, context: PanelRequestContext, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = try context.requireIdentity()
        let database = try await customers.database(id, for: identity)
        let job = try await imports.job(jid, for: identity)
        guard job.databaseId == database._id else { throw ObjectNotFound("import", jid) }
        let catalog = renderer.catalogs[context.language]
        var values: [String: Any] = ["database": ["id": database._id, "name": database.name] as [String: Any], "job": Self.jobValues(job, catalog: catalog),
                                     "canImport": identity.can(.profiles, .import), "error": error ?? ""]
        if job.state == .uploaded {
            let preview = try await imports.preview(job)
            values["hasHeader"] = job.hasHeader
            values["modes"] = Self.modes(catalog, selected: job.mode)
            values["columns"] = job.mapping.map { column -> [String: Any] in
                ["column": column.column, "header": column.header, "choices": [["value": "", "label": catalog.text("imports.skip_column"), "selected": column.field.isEmpty]]
                    + database.fields.map { ["value": $0.key, "label": "\($0.title) (\($0.key))", "selected": $0.key == column.field] }]
            }
            values["preview"] = preview.rows.map { row in job.mapping.map { $0.column < row.count ? row[$0.column] : "" } }
            values["problems"] = preview.problems
            values["hasProblems"] = !preview.problems.isEmpty
        }
        return renderer.page("import", title: "imports.job_title", values: values, context: context, status: status, active: "databases")
    }

    @Sendable func show(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await showPage(try context.parameters.require("id"), try context.parameters.require("jid"), context: context)
    }

    @Sendable func start(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id"), jid = try context.parameters.require("jid")
        let identity = try context.requireIdentity()
        let form = try await FormData.read(request, context: context)
        let job = try await imports.job(jid, for: identity)
        let mapping = job.mapping.map { ImportJob.ColumnMapping(column: $0.column, header: $0.header, field: form["map_\($0.column)"] ?? "") }
        do {
            _ = try await imports.start(jid, mapping: mapping, mode: ProfileWriter.Mode(rawValue: form["mode"] ?? "") ?? .upsert,
                                        hasHeader: form.flag("hasHeader"), by: identity)
        } catch let error as InvalidInput {
            return try await showPage(id, jid, context: context, error: renderer.message(error.key, error.arguments, context: context), status: .unprocessableContent)
        }
        return .redirect(to: "/databases/\(id)/imports/\(jid)", type: .normal)
    }

    @Sendable func cancel(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id"), jid = try context.parameters.require("jid")
        try await imports.cancel(jid, by: try context.requireIdentity())
        return .redirect(to: "/databases/\(id)/imports/\(jid)", type: .normal)
    }

    @Sendable func errors(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let csv = try await imports.errorsCSV(try context.parameters.require("jid"), for: try context.requireIdentity())
        return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"rejected-rows.csv\""],
                        body: .init(byteBuffer: ByteBuffer(string: csv)))
    }

    // MARK: API

    struct JobView: Encodable {
        let id: String, databaseId: String, fileName: String, format: String, size: Int64, state: String, mode: String, hasHeader: Bool
        let mapping: [ImportJob.ColumnMapping], counters: ImportJob.Counters, message: String, createdAt: Date, startedAt: Date?, finishedAt: Date?
        init(_ job: ImportJob) {
            id = job._id; databaseId = job.databaseId; fileName = job.fileName; format = job.format.rawValue; size = job.size; state = job.state.rawValue
            mode = job.mode.rawValue; hasHeader = job.hasHeader; mapping = job.mapping; counters = job.counters; message = job.message
            createdAt = job.createdAt; startedAt = job.startedAt; finishedAt = job.finishedAt
        }
    }

    /// The file as the body; `name`, `format`, `mode`, `header` and `map=column:field` (repeated) in
    /// the query. Without `map`, columns are matched to fields by their headers. Starts at once
    /// unless `start=false`.
    @Sendable func apiCreate(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.profiles, .import)
        let q = request.uri.queryParameters
        let format = try q["format"].map { text -> ImportJob.Format in
            guard let format = ImportJob.Format(rawValue: String(text)) else { throw APIErrorFor.invalid("format is csv, txt, xls or xlsx", field: "format") }
            return format
        }
        guard let mode = ProfileWriter.Mode(rawValue: q["mode"].map(String.init) ?? "upsert") else { throw APIErrorFor.invalid("mode is add, update or upsert", field: "mode") }
        let job = try await imports.upload(fileName: q["name"].map(String.init) ?? "", format: format, into: try context.parameters.require("id"),
                                           body: request.body.map { Array(buffer: $0) }, by: identity)
        var mapping = job.mapping
        let explicit = q.getAll("map")
        if !explicit.isEmpty {
            mapping = mapping.map { ImportJob.ColumnMapping(column: $0.column, header: $0.header, field: "") }
            for item in explicit {
                let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
                guard parts.count == 2, let index = mapping.firstIndex(where: { $0.header == parts[0] || String($0.column + 1) == parts[0] }) else {
                    throw APIErrorFor.invalid("map=\(item): name a column by its header or number, then the field key, e.g. map=E-mail:email", field: "map")
                }
                mapping[index].field = parts[1]
            }
        }
        if q["start"] == "false" { return try JSONBody.response(JobView(job), status: .created) }
        let started = try await imports.start(job._id, mapping: mapping, mode: mode, hasHeader: q["header"] != "false", by: identity)
        return try JSONBody.response(JobView(started), status: .accepted)
    }

    @Sendable func apiGet(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(JobView(try await imports.job(try context.parameters.require("jid"), for: try context.requireIdentity())))
    }

    @Sendable func apiCancel(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let jid = try context.parameters.require("jid")
        try await imports.cancel(jid, by: identity)
        return try JSONBody.response(JobView(try await imports.job(jid, for: identity)))
    }

    @Sendable func apiErrors(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let csv = try await imports.errorsCSV(try context.parameters.require("jid"), for: try context.requireIdentity())
        return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: csv)))
    }
}
