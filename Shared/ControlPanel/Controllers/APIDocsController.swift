import Foundation
import Hummingbird

/// The REST API's OpenAPI 3 document at `/api/openapi.json`, and the same rendered as a page at `/api`.
struct APIDocsController {
    let document: Data
    let renderer: PanelRenderer

    func addRoutes(to router: Router<PanelRequestContext>) {
        router.get("/api/openapi.json", use: json)
        router.get("/api", use: page)
    }

    @Sendable func json(_ request: Request, context: PanelRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: document)))
    }

    @Sendable func page(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let root = (try JSONSerialization.jsonObject(with: document) as? [String: Any]) ?? [:]
        let paths = (root["paths"] as? [String: Any]) ?? [:]
        var operations: [[String: Any]] = []
        for path in paths.keys.sorted() {
            guard let methods = paths[path] as? [String: Any] else { continue }
            for method in ["get", "post", "put", "patch", "delete"] {
                guard let operation = methods[method] as? [String: Any] else { continue }
                let parameters = ((operation["parameters"] as? [[String: Any]]) ?? []).map { p in
                    ["name": p["name"] as? String ?? "", "in": p["in"] as? String ?? "", "description": p["description"] as? String ?? ""]
                }
                let responses = ((operation["responses"] as? [String: Any]) ?? [:]).keys.sorted().joined(separator: ", ")
                operations.append(["method": method.uppercased(), "path": path, "summary": operation["summary"] as? String ?? "",
                                   "description": operation["description"] as? String ?? "",
                                   "scope": (operation["x-herald-scope"] as? String) ?? "—", "parameters": parameters, "responses": responses,
                                   "id": (operation["operationId"] as? String) ?? ""])
            }
        }
        let info = (root["info"] as? [String: Any]) ?? [:]
        return renderer.page("api", title: "api.title", values: ["operations": operations, "version": info["version"] as? String ?? "",
                                                                 "description": info["description"] as? String ?? ""], context: context, active: "api")
    }
}
