import Hummingbird
import ServiceSupport

/// Turns the domain's refusals into answers: JSON errors under `/api/`, pages in the panel.
/// ``AccessDenied`` is 403, ``ObjectNotFound`` 404 (the same whether the object is in another
/// account or nowhere), ``InvalidInput`` 422.
struct PanelErrorMiddleware: RouterMiddleware {
    typealias Context = PanelRequestContext
    let renderer: PanelRenderer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let api = request.uri.path.hasPrefix("/api/")
        let english = renderer.catalogs["en"]
        do {
            return try await next(request, context)
        } catch let error as AccessDenied {
            if api { throw APIError(.forbidden, code: "forbidden", message: english.text("errors." + error.key, error.arguments)) }
            return renderer.page("error", title: "errors.forbidden_title",
                                 values: ["heading": renderer.catalogs[context.language].text("errors.forbidden_title"),
                                          "message": renderer.message(error.key, error.arguments, context: context)],
                                 context: context, status: .forbidden)
        } catch let error as ObjectNotFound {
            if api { throw APIError(.notFound, code: "not_found", message: "no \(error.kind) with id '\(error.id)' in this account") }
            return notFound(context)
        } catch let error as InvalidInput {
            if api { throw APIError(.unprocessableContent, code: "invalid_field", message: english.text("errors." + error.key, error.arguments), field: error.field) }
            return renderer.page("error", title: "errors.invalid_title",
                                 values: ["heading": renderer.catalogs[context.language].text("errors.invalid_title"),
                                          "message": renderer.message(error.key, error.arguments, context: context)],
                                 context: context, status: .unprocessableContent)
        } catch let error as HTTPError where !api && (error.status == .notFound || error.status == .forbidden || error.status == .unauthorized) {
            if error.status == .notFound { return notFound(context) }
            return renderer.page("error", title: "errors.forbidden_title",
                                 values: ["heading": renderer.catalogs[context.language].text("errors.forbidden_title"), "message": error.body ?? ""],
                                 context: context, status: error.status)
        }
    }

    func notFound(_ context: Context) -> Response {
        let catalog = renderer.catalogs[context.language]
        return renderer.page("error", title: "errors.not_found_title",
                             values: ["heading": catalog.text("errors.not_found_title"), "message": catalog.text("errors.not_found")],
                             context: context, status: .notFound)
    }
}
