import BounceReading
import Foundation
import Hummingbird
import Security
import ServiceSupport

/// Bounce and feedback-loop mailboxes: `/settings/bounce-mailboxes` in the panel,
/// `/api/v1/bounce-mailboxes` in the API.
struct BounceMailboxesController {
    let mailboxes: BounceMailboxService
    let renderer: PanelRenderer

    func addRoutes(to router: Router<PanelRequestContext>) {
        router.get("/settings/bounce-mailboxes", use: page)
        router.post("/settings/bounce-mailboxes", use: add)
        router.post("/settings/bounce-mailboxes/:mid/read", use: read)
        router.post("/settings/bounce-mailboxes/:mid/delete", use: delete)
        router.get("/api/v1/bounce-mailboxes", use: apiList)
        router.post("/api/v1/bounce-mailboxes", use: apiAdd)
        router.post("/api/v1/bounce-mailboxes/:mid/read", use: apiRead)
        router.delete("/api/v1/bounce-mailboxes/:mid", use: apiDelete)
    }

    func pageResponse(context: PanelRequestContext, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = try context.requireIdentity()
        return renderer.page("bounce_mailboxes", title: "bounce_mailboxes.title", values: [
            "mailboxes": try await mailboxes.list(for: identity).map { mailbox -> [String: Any] in
                ["id": mailbox._id, "name": mailbox.name, "server": "\(mailbox.user)@\(mailbox.host):\(mailbox.port)", "security": mailbox.security.rawValue,
                 "every": mailbox.intervalSeconds, "last": mailbox.lastReadAt.map { $0.formatted(.iso8601) + " · " + mailbox.lastResult } ?? "—"]
            },
            "securities": POP3Client.Security.allCases.map(\.rawValue), "canEdit": identity.can(.channels, .edit), "error": error ?? "",
        ], context: context, status: status, active: "bounce_mailboxes")
    }

    @Sendable func page(_ request: Request, context: PanelRequestContext) async throws -> Response { try await pageResponse(context: context) }

    @Sendable func add(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let form = try await FormData.read(request, context: context)
        let mailbox = BounceMailbox(accountId: "", name: form["name"] ?? "", host: form["host"] ?? "", port: Int(form["port"] ?? "") ?? 110,
                                    security: POP3Client.Security(rawValue: form["security"] ?? "") ?? .none, user: form["user"] ?? "", password: form["password"] ?? "",
                                    verifyCertificate: !form.flag("insecure"), intervalSeconds: Int(form["every"] ?? "") ?? 60)
        do {
            _ = try await mailboxes.add(mailbox, by: try context.requireIdentity())
        } catch let error as InvalidInput {
            return try await pageResponse(context: context, error: renderer.message(error.key, error.arguments, context: context), status: .unprocessableContent)
        }
        return .redirect(to: "/settings/bounce-mailboxes?notice=saved", type: .normal)
    }

    @Sendable func read(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await mailboxes.readNow(try context.parameters.require("mid"), by: try context.requireIdentity())
        return .redirect(to: "/settings/bounce-mailboxes", type: .normal)
    }

    @Sendable func delete(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await mailboxes.delete(try context.parameters.require("mid"), by: try context.requireIdentity())
        return .redirect(to: "/settings/bounce-mailboxes", type: .normal)
    }

    struct MailboxView: Encodable {
        let id: String, name: String, host: String, port: Int, security: String, user: String, intervalSeconds: Int, enabled: Bool, lastReadAt: Date?, lastResult: String
        init(_ m: BounceMailbox) {
            id = m._id; name = m.name; host = m.host; port = m.port; security = m.security.rawValue; user = m.user; intervalSeconds = m.intervalSeconds
            enabled = m.enabled; lastReadAt = m.lastReadAt; lastResult = m.lastResult
        }
    }

    struct Body: Decodable {
        let name: String, host: String, port: Int?, security: POP3Client.Security?, user: String, password: String, verifyCertificate: Bool?, intervalSeconds: Int?
    }

    @Sendable func apiList(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(ListView(items: try await mailboxes.list(for: try context.requireIdentity()).map(MailboxView.init)))
    }

    @Sendable func apiAdd(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.channels, .edit)
        let body = try await JSONBody.decode(Body.self, from: request)
        let mailbox = BounceMailbox(accountId: "", name: body.name, host: body.host, port: body.port ?? (body.security == .tls ? 995 : 110), security: body.security ?? .none,
                                    user: body.user, password: body.password, verifyCertificate: body.verifyCertificate ?? true, intervalSeconds: body.intervalSeconds ?? 60)
        return try JSONBody.response(MailboxView(try await mailboxes.add(mailbox, by: identity)), status: .created)
    }

    @Sendable func apiRead(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await mailboxes.readNow(try context.parameters.require("mid"), by: try context.requireIdentity())
        return Response(status: .accepted)
    }

    @Sendable func apiDelete(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await mailboxes.delete(try context.parameters.require("mid"), by: try context.requireIdentity())
        return Response(status: .noContent)
    }
}
