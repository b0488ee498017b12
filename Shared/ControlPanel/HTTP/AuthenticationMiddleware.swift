import Foundation
import Hummingbird
import Security
import ServiceSupport

/// Decides who is calling and lets nobody else past: default deny. Only ``publicPaths`` (and
/// `/static/`) are reachable without credentials. The panel uses session cookies, with a CSRF
/// token on every state-changing request; `/api/v1/` uses bearer tokens only. A session that
/// still owes a password change or a second factor reaches only the page that asks for it.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = PanelRequestContext

    let authenticator: Authenticator
    let catalogs: Catalogs
    let secureCookies: Bool

    static let sessionCookie = "herald_session"
    static let languageCookie = "herald_lang"
    static let loginCSRFCookie = "herald_login_csrf"

    /// Reachable without a session or token.
    static let publicPaths: Set<String> = ["/login", "/language", "/api", "/api/openapi.json", "/health", "/ready", "/metrics"]

    static func isPublic(_ path: String) -> Bool { publicPaths.contains(path) || path.hasPrefix("/static/") }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        var request = request
        let path = request.uri.path
        let isAPI = path.hasPrefix("/api/v1/") || path == "/api/v1"
        if isAPI {
            guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer "),
                  let identity = try await authenticator.identity(bearer: String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces), address: context.address)
            else {
                throw APIUnauthorized()
            }
            // A token acts only within its scopes; one without any may do nothing at all.
            guard !identity.permissions.isEmpty else {
                throw APIError(.forbidden, code: "forbidden", message: catalogs["en"].text("errors.token_without_scopes"))
            }
            context.identity = identity
            context.language = "en"
            return try await next(request, context)
        }
        if let secret = request.cookies[Self.sessionCookie]?.value, !secret.isEmpty {
            context.identity = try await authenticator.identity(sessionSecret: secret, address: context.address)
        }
        context.language = catalogs.choose(user: context.identity?.user.language, cookie: request.cookies[Self.languageCookie]?.value,
                                           acceptLanguage: request.headers[.acceptLanguage])
        let unsafe = request.method != .get && request.method != .head
        if Self.isPublic(path) {
            if unsafe, path == "/login" || path == "/language", context.identity == nil {
                try await requireLoginCSRF(&request)
            } else if unsafe, let session = context.identity?.session {
                try await requireCSRF(&request, token: session.csrfToken)
            }
            return try await next(request, context)
        }
        guard let identity = context.identity, let session = identity.session else {
            if request.method == .get {
                let target = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
                return Response.redirect(to: "/login?next=" + (target.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"), type: .normal)
            }
            throw HTTPError(.unauthorized)
        }
        switch session.stage {
        case .active: break
        case .mustChangePassword:
            if path != "/password/change" && path != "/logout" { return .redirect(to: "/password/change", type: .normal) }
        case .needsSecondFactor:
            if path != "/login/totp" && path != "/logout" { return .redirect(to: "/login/totp", type: .normal) }
        }
        if unsafe { try await requireCSRF(&request, token: session.csrfToken) }
        return try await next(request, context)
    }

    /// The token comes in the form field `_csrf` or the `X-CSRF-Token` header.
    private func requireCSRF(_ request: inout Request, token: String) async throws {
        if let header = request.headers.first(where: { $0.name.canonicalName == "x-csrf-token" })?.value, SecretToken.matches(header, token) { return }
        let body = try await request.collectBody(upTo: 1 << 20)
        guard let sent = FormData(String(buffer: body))["_csrf"], SecretToken.matches(sent, token) else {
            throw AccessDenied("csrf_failed")
        }
    }

    /// Before a session exists, the login form proves it came from our page by a double-submit
    /// cookie: the cookie and the hidden field must carry the same random value.
    private func requireLoginCSRF(_ request: inout Request) async throws {
        let cookie = request.cookies[Self.loginCSRFCookie]?.value ?? ""
        let body = try await request.collectBody(upTo: 1 << 20)
        guard !cookie.isEmpty, let sent = FormData(String(buffer: body))["_csrf"], SecretToken.matches(sent, cookie) else {
            throw AccessDenied("csrf_failed")
        }
    }
}

/// 401 for the API, as `{"error": …}` with a `WWW-Authenticate` challenge.
struct APIUnauthorized: HTTPResponseError {
    var status: HTTPResponse.Status { .unauthorized }
    func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = #"{"error":{"code":"unauthorized","message":"send an API token as 'Authorization: Bearer <token>'; create one on the panel's API tokens page"}}"#
        return Response(status: .unauthorized, headers: [.contentType: "application/json; charset=utf-8", .wwwAuthenticate: "Bearer realm=\"herald\""],
                        body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
