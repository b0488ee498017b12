import Hummingbird
import Security

/// Groups: `/settings/groups` and `/api/v1/groups`.
struct GroupsController {
    let administration: AccessAdministration
    let renderer: PanelRenderer

    func addRoutes(to router: Router<PanelRequestContext>) {
        router.get("/settings/groups", use: list)
        router.get("/settings/groups/new", use: new)
        router.post("/settings/groups", use: create)
        router.get("/settings/groups/:id", use: edit)
        router.post("/settings/groups/:id", use: update)
        router.post("/settings/groups/:id/delete", use: delete)
        router.get("/api/v1/groups", use: apiList)
        router.post("/api/v1/groups", use: apiCreate)
        router.get("/api/v1/groups/:id", use: apiGet)
        router.put("/api/v1/groups/:id", use: apiUpdate)
        router.delete("/api/v1/groups/:id", use: apiDelete)
    }

    @Sendable func list(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let catalog = renderer.catalogs[context.language]
        let roleNames = Dictionary(uniqueKeysWithValues: try await administration.roles(for: identity).map { ($0._id, $0.name) })
        let groups = try await administration.groups(for: identity).map { group -> [String: Any] in
            ["id": group._id, "name": group.name, "roles": group.roleIds.compactMap { roleNames[$0] }.joined(separator: ", "), "description": group.description]
        }
        var values: [String: Any] = ["groups": groups, "canCreate": identity.can(.users, .create)]
        if let notice = request.uri.queryParameters["notice"] { values["notice"] = catalog.text("notices." + String(notice)) }
        return renderer.page("groups", title: "groups.title", values: values, context: context, active: "groups")
    }

    func form(_ group: UserGroup?, context: PanelRequestContext, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = try context.requireIdentity()
        let roles = try await administration.roles(for: identity)
        let values: [String: Any] = [
            "group": ["id": group?._id ?? "", "name": group?.name ?? "", "description": group?.description ?? "", "exists": group != nil] as [String: Any],
            "roles": roles.map { ["id": $0._id, "name": $0.name, "checked": group?.roleIds.contains($0._id) ?? false] as [String: Any] },
            "error": error ?? "", "canSave": identity.can(.users, group == nil ? .create : .edit),
            "canDelete": group != nil && identity.can(.users, .delete),
        ]
        return renderer.page("group", title: group == nil ? "groups.new_title" : "groups.edit_title", values: values, context: context, status: status, active: "groups")
    }

    @Sendable func new(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try context.requireIdentity().require(.users, .create)
        return try await form(nil, context: context)
    }

    @Sendable func edit(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await form(try await administration.group(try context.parameters.require("id"), for: try context.requireIdentity()), context: context)
    }

    func save(_ id: String?, _ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let form = try await FormData.read(request, context: context)
        do {
            _ = try await administration.saveGroup(id, name: form["name"] ?? "", description: form["description"] ?? "", roleIds: form.values("roleIds"), by: identity)
        } catch let error as InvalidInput {
            let existing: UserGroup? = if let id { try await administration.group(id, for: identity) } else { nil }
            return try await self.form(existing, context: context, error: renderer.message(error.key, error.arguments, context: context), status: .unprocessableContent)
        }
        return .redirect(to: "/settings/groups?notice=saved", type: .normal)
    }

    @Sendable func create(_ request: Request, context: PanelRequestContext) async throws -> Response { try await save(nil, request, context: context) }

    @Sendable func update(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await save(try context.parameters.require("id"), request, context: context)
    }

    @Sendable func delete(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await administration.deleteGroup(try context.parameters.require("id"), by: try context.requireIdentity())
        return .redirect(to: "/settings/groups?notice=deleted", type: .normal)
    }

    struct GroupBody: Decodable {
        let name: String
        let description: String?
        let roleIds: [String]
    }

    @Sendable func apiList(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(ListView(items: try await administration.groups(for: try context.requireIdentity()).map(GroupView.init)))
    }

    @Sendable func apiGet(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(GroupView(try await administration.group(try context.parameters.require("id"), for: try context.requireIdentity())))
    }

    @Sendable func apiCreate(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try context.requireIdentity().require(.users, .create)
        let body = try await JSONBody.decode(GroupBody.self, from: request)
        let group = try await administration.saveGroup(nil, name: body.name, description: body.description ?? "", roleIds: body.roleIds, by: try context.requireIdentity())
        return try JSONBody.response(GroupView(group), status: .created)
    }

    @Sendable func apiUpdate(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try context.requireIdentity().require(.users, .edit)
        let body = try await JSONBody.decode(GroupBody.self, from: request)
        let group = try await administration.saveGroup(try context.parameters.require("id"), name: body.name, description: body.description ?? "",
                                                       roleIds: body.roleIds, by: try context.requireIdentity())
        return try JSONBody.response(GroupView(group))
    }

    @Sendable func apiDelete(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await administration.deleteGroup(try context.parameters.require("id"), by: try context.requireIdentity())
        return Response(status: .noContent)
    }
}
