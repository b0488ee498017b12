import Hummingbird
import Security

/// Roles: `/settings/roles` (with the permission matrix) and `/api/v1/roles`.
struct RolesController {
    let administration: AccessAdministration
    let renderer: PanelRenderer

    func addRoutes(to router: Router<PanelRequestContext>) {
        router.get("/settings/roles", use: list)
        router.get("/settings/roles/new", use: new)
        router.post("/settings/roles", use: create)
        router.get("/settings/roles/:id", use: edit)
        router.post("/settings/roles/:id", use: update)
        router.post("/settings/roles/:id/delete", use: delete)
        router.get("/api/v1/roles", use: apiList)
        router.post("/api/v1/roles", use: apiCreate)
        router.get("/api/v1/roles/:id", use: apiGet)
        router.put("/api/v1/roles/:id", use: apiUpdate)
        router.delete("/api/v1/roles/:id", use: apiDelete)
    }

    @Sendable func list(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let catalog = renderer.catalogs[context.language]
        let roles = try await administration.roles(for: identity).map { role -> [String: Any] in
            ["id": role._id, "name": role.name, "builtIn": role.builtIn != nil, "count": role.permissions.count, "description": role.description]
        }
        var values: [String: Any] = ["roles": roles, "canCreate": identity.can(.users, .create)]
        if let notice = request.uri.queryParameters["notice"] { values["notice"] = catalog.text("notices." + String(notice)) }
        return renderer.page("roles", title: "roles.title", values: values, context: context, active: "roles")
    }

    func form(_ role: Role?, context: PanelRequestContext, error: String? = nil, status: HTTPResponse.Status = .ok) throws -> Response {
        let identity = try context.requireIdentity()
        let catalog = renderer.catalogs[context.language]
        let granted = Set(role?.permissions ?? [])
        let matrix = Permission.Resource.allCases.map { resource -> [String: Any] in
            ["label": catalog.text("resources." + resource.rawValue), "cells": Permission.Action.allCases.map { action -> [String: Any] in
                let permission = Permission(resource, action)
                guard resource.actions.contains(action) else { return ["applies": false] }
                return ["applies": true, "value": permission.description, "checked": granted.contains(permission),
                        "grantable": identity.permissions.contains(permission), "label": catalog.text("actions." + action.rawValue)]
            }]
        }
        let values: [String: Any] = [
            "role": ["id": role?._id ?? "", "name": role?.name ?? "", "description": role?.description ?? "",
                     "builtIn": role?.builtIn != nil, "exists": role != nil] as [String: Any],
            "actions": Permission.Action.allCases.map { catalog.text("actions." + $0.rawValue) },
            "matrix": matrix, "error": error ?? "",
            "canSave": role?.builtIn == nil && identity.can(.users, role == nil ? .create : .edit),
            "canDelete": role != nil && role?.builtIn == nil && identity.can(.users, .delete),
        ]
        return renderer.page("role", title: role == nil ? "roles.new_title" : "roles.edit_title", values: values, context: context, status: status, active: "roles")
    }

    @Sendable func new(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.users, .create)
        return try form(nil, context: context)
    }

    @Sendable func edit(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try form(try await administration.role(try context.parameters.require("id"), for: try context.requireIdentity()), context: context)
    }

    func save(_ id: String?, _ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let form = try await FormData.read(request, context: context)
        do {
            _ = try await administration.saveRole(id, name: form["name"] ?? "", description: form["description"] ?? "",
                                                  permissions: form.values("permissions"), by: identity)
        } catch let error as InvalidInput {
            var draft: Role = if let id { try await administration.role(id, for: identity) } else { Role(accountId: identity.account._id, name: "", permissions: []) }
            draft.name = form["name"] ?? ""
            draft.permissions = form.values("permissions").compactMap(Permission.init)
            return try self.form(id == nil ? nil : draft, context: context, error: renderer.message(error.key, error.arguments, context: context),
                                 status: .unprocessableContent)
        }
        return .redirect(to: "/settings/roles?notice=saved", type: .normal)
    }

    @Sendable func create(_ request: Request, context: PanelRequestContext) async throws -> Response { try await save(nil, request, context: context) }

    @Sendable func update(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await save(try context.parameters.require("id"), request, context: context)
    }

    @Sendable func delete(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await administration.deleteRole(try context.parameters.require("id"), by: try context.requireIdentity())
        return .redirect(to: "/settings/roles?notice=deleted", type: .normal)
    }

    struct RoleBody: Decodable {
        let name: String
        let description: String?
        let permissions: [String]
    }

    @Sendable func apiList(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(ListView(items: try await administration.roles(for: try context.requireIdentity()).map(RoleView.init)))
    }

    @Sendable func apiGet(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(RoleView(try await administration.role(try context.parameters.require("id"), for: try context.requireIdentity())))
    }

    @Sendable func apiCreate(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try context.requireIdentity().require(.users, .create)
        let body = try await JSONBody.decode(RoleBody.self, from: request)
        let role = try await administration.saveRole(nil, name: body.name, description: body.description ?? "", permissions: body.permissions, by: try context.requireIdentity())
        return try JSONBody.response(RoleView(role), status: .created)
    }

    @Sendable func apiUpdate(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try context.requireIdentity().require(.users, .edit)
        let body = try await JSONBody.decode(RoleBody.self, from: request)
        let role = try await administration.saveRole(try context.parameters.require("id"), name: body.name, description: body.description ?? "",
                                                     permissions: body.permissions, by: try context.requireIdentity())
        return try JSONBody.response(RoleView(role))
    }

    @Sendable func apiDelete(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await administration.deleteRole(try context.parameters.require("id"), by: try context.requireIdentity())
        return Response(status: .noContent)
    }
}
