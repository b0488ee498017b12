import Hummingbird
import Logging

/// Gives every error answer of a service the same JSON shape (``APIError``): unknown routes, errors
/// handlers throw, and unexpected failures, which are logged with the request and answered 500
/// without their internals.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            let message = error.body ?? (error.status == .notFound
                ? "no endpoint for \(request.method) \(request.uri.path); see docs/openapi.yaml"
                : error.status.reasonPhrase)
            throw APIError(error.status, code: APIError.code(for: error.status), message: message)
        } catch let error as any HTTPResponseError {
            throw error
        } catch {
            context.logger.error("request failed", metadata: ["http.method": "\(request.method)", "http.path": "\(request.uri.path)", "error": "\(error)"])
            throw APIError(.internalServerError, code: "internal_error", message: "the request failed on the server; the error is in the service's log")
        }
    }
}
