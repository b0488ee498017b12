import Audiences
import CustomerData
import DataJobs
import Foundation
import Hummingbird
import Security
import ServiceSupport

/// Exports of a database to CSV or XLSX: `/databases/:id/exports` in the panel,
/// `/api/v1/databases/:id/exports` and `/api/v1/exports/:jid` in the API.
struct ExportsController {
    let exports: ExportService
    let customers: CustomerDataService
    let segments: SegmentService
    let renderer: PanelRenderer

    func addRoutes(to router: Router<PanelRequestContext>) {
        router.get("/databases/:id/exports", use: page)
        router.post("/databases/:id/exports", use: start)
        router.get("/databases/:id/exports/:jid/download", use: download)
        router.post("/api/v1/databases/:id/exports", use: apiStart)
        router.get("/api/v1/exports/:jid", use: apiGet)
        router.get("/api/v1/exports/:jid/file", use: download)
    }

    @Sendable func page(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.profiles, .export)
        let id = try context.parameters.require("id")
        let database = try await customers.database(id, for: identity)
        let catalog = renderer.catalogs[context.language]
        let jobs = try await exports.list(in: id, for: identity)
        let choices = identity.can(.segments, .view) ? try await segments.list(in: id, for: identity) : []
        return renderer.page("exports", title: "exports.title", values: [
            "database": ["id": database._id, "name": database.name] as [String: Any],
            "segments": choices.map { ["id": $0._id, "name": $0.name] }, "hasSegments": !choices.isEmpty,
            "jobs": jobs.map { job -> [String: Any] in
                ["id": job._id, "format": job.format.rawValue.uppercased(), "segment": job.segmentName ?? "", "state": catalog.text("imports.state_" + job.state.rawValue), "written": job.written,
                 "ready": job.state == .succeeded, "running": !job.state.isFinished, "by": job.createdBy, "created": job.createdAt.formatted(.iso8601),
                 "size": ByteCountFormatter.string(fromByteCount: job.size, countStyle: .file), "message": job.message]
            },
            "refresh": jobs.contains { !$0.state.isFinished },
        ], context: context, active: "databases")
    }

    @Sendable func start(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let form = try await FormData.read(request, context: context)
        let identity = try context.requireIdentity()
        let segment = try await (form["segment"]).flatMap { $0.isEmpty ? nil : $0 }.asyncMap { try await segments.segment($0, for: identity).0 }
        _ = try await exports.start(id, format: ExportJob.Format(rawValue: form["format"] ?? "") ?? .csv, segment: segment, by: identity)
        return .redirect(to: "/databases/\(id)/exports", type: .normal)
    }

    @Sendable func download(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let (job, name, chunks) = try await exports.download(try context.parameters.require("jid"), by: try context.requireIdentity())
        let type = job.format == .csv ? "text/csv; charset=utf-8" : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(status: .ok, headers: [.contentType: type, .contentDisposition: "attachment; filename=\"\(name)\"", .contentLength: String(job.size)],
                        body: ResponseBody(asyncSequence: chunks.map { ByteBuffer(bytes: $0) }))
    }

    struct Body: Decodable {
        let format: ExportJob.Format?
        /// Only this segment's profiles.
        let segmentId: String?
    }

    struct JobView: Encodable {
        let id: String, databaseId: String, segmentId: String?, format: String, state: String, written: Int64, size: Int64, message: String, createdAt: Date, finishedAt: Date?
        init(_ job: ExportJob) {
            id = job._id; databaseId = job.databaseId; segmentId = job.segmentId; format = job.format.rawValue; state = job.state.rawValue; written = job.written; size = job.size
            message = job.message; createdAt = job.createdAt; finishedAt = job.finishedAt
        }
    }

    @Sendable func apiStart(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.profiles, .export)
        let body = try await JSONBody.decode(Body.self, from: request)
        let segment = try await body.segmentId.asyncMap { try await segments.segment($0, for: identity).0 }
        return try JSONBody.response(JobView(try await exports.start(try context.parameters.require("id"), format: body.format ?? .csv, segment: segment, by: identity)),
                                     status: .accepted)
    }

    @Sendable func apiGet(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(JobView(try await exports.job(try context.parameters.require("jid"), for: try context.requireIdentity())))
    }
}
