import Foundation
import Hummingbird

/// An error answer of Herald's HTTP API: `{"error": {"code", "message", "field"}}` with its status.
/// Handlers throw it (or Hummingbird's `HTTPError`, which ``APIErrorMiddleware`` turns into one).
public struct APIError: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    /// A stable, machine-readable name: `not_found`, `invalid_field`, …
    public let code: String
    /// What went wrong and how to fix it, for a person.
    public let message: String
    /// The request field at fault, when there is one.
    public let field: String?

    public init(_ status: HTTPResponse.Status, code: String, message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    struct Body: Encodable {
        struct Detail: Encodable {
            let code: String
            let message: String
            let field: String?
        }

        let error: Detail
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(Body(error: .init(code: code, message: message, field: field)))
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The code an HTTP status gets when nothing more precise is known.
    static func code(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: "bad_request"
        case 401: "unauthorized"
        case 403: "forbidden"
        case 404: "not_found"
        case 405: "method_not_allowed"
        case 409: "conflict"
        case 413: "payload_too_large"
        case 415: "unsupported_media_type"
        case 422: "invalid_field"
        case 429: "rate_limited"
        case 503: "unavailable"
        default: status.code >= 500 ? "internal_error" : "error"
        }
    }
}
