import Foundation
import Hummingbird
import Security

/// Users: the panel's pages under `/settings/users` and `/api/v1/users`.
struct UsersController {
    let administration: AccessAdministration
    let renderer: PanelRenderer

    func addRoutes(to router: Router<PanelRequestContext>) {
        router.get("/settings/users", use: list)
        router.post("/settings/users", use: create)
        router.get("/settings/users/:id", use: edit)
        router.post("/settings/users/:id", use: update)
        router.post("/settings/users/:id/delete", use: delete)
        router.post("/settings/users/:id/unlock", use: unlock)
        router.post("/settings/users/:id/reset-password", use: resetPassword)
        router.get("/api/v1/users", use: apiList)
        router.post("/api/v1/users", use: apiCreate)
        router.get("/api/v1/users/:id", use: apiGet)
        router.patch("/api/v1/users/:id", use: apiUpdate)
        router.delete("/api/v1/users/:id", use: apiDelete)
    }

    // MARK: Panel

    func listPage(_ context: PanelRequestContext, values extra: [String: Any] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = try context.requireIdentity()
        let users = try await administration.users(for: identity)
        let groups = try await administration.groups(for: identity)
        let roles = try await administration.roles(for: identity)
        let groupNames = Dictionary(uniqueKeysWithValues: groups.map { ($0._id, $0.name) })
        let catalog = renderer.catalogs[context.language]
        var values: [String: Any] = [
            "users": users.map { user in
                ["id": user._id, "login": user.login, "name": user.name, "source": user.source.rawValue, "active": user.active,
                 "locked": (user.lockedUntil ?? .distantPast) > Date(), "groups": user.groupIds.compactMap { groupNames[$0] }.joined(separator: ", "),
                 "lastLogin": user.lastLoginAt.map { $0.formatted(.iso8601) } ?? "—"] as [String: Any]
            },
            "groups": groups.map { ["id": $0._id, "name": $0.name] },
            "roles": roles.map { ["id": $0._id, "name": $0.name] },
            "languages": renderer.catalogs.all.values.map { ["code": $0.code, "name": $0.name] },
            "canCreate": identity.can(.users, .create),
        ]
        if let notice = context.notice { values["notice"] = catalog.text("notices." + notice) }
        values.merge(extra) { $1 }
        return renderer.page("users", title: "users.title", values: values, context: context, status: status, active: "users")
    }

    @Sendable func list(_ request: Request, context: PanelRequestContext) async throws -> Response {
        var context = context
        context.notice = request.uri.queryParameters["notice"].map(String.init)
        return try await listPage(context)
    }

    static func input(_ form: FormData, creating: Bool) -> AccessAdministration.UserInput {
        AccessAdministration.UserInput(login: creating ? form["login"] : nil, name: form["name"], email: form["email"],
                                       groupIds: form.values("groupIds"), roleIds: form.values("roleIds"),
                                       language: form["language"], active: creating ? nil : form.flag("active"), password: form["password"])
    }

    @Sendable func create(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let form = try await FormData.read(request, context: context)
        do {
            let (user, oneTime) = try await administration.createUser(Self.input(form, creating: true), by: identity)
            let catalog = renderer.catalogs[context.language]
            var values: [String: Any] = ["notice": catalog.text("notices.user_created", [user.login])]
            if let oneTime { values["oneTimePassword"] = oneTime; values["oneTimeLogin"] = user.login }
            return try await listPage(context, values: values, status: .created)
        } catch let error as InvalidInput {
            return try await listPage(context, values: ["error": renderer.message(error.key, error.arguments, context: context), "form": [
                "login": form["login"] ?? "", "name": form["name"] ?? "", "email": form["email"] ?? "",
            ]], status: .unprocessableContent)
        }
    }

    func editPage(_ id: String, context: PanelRequestContext, values extra: [String: Any] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = try context.requireIdentity()
        let user = try await administration.user(id, for: identity)
        let groups = try await administration.groups(for: identity)
        let roles = try await administration.roles(for: identity)
        var values: [String: Any] = [
            "user": ["id": user._id, "login": user.login, "name": user.name, "email": user.email, "active": user.active,
                     "source": user.source.rawValue, "locked": (user.lockedUntil ?? .distantPast) > Date(), "local": user.source == .local,
                     "secondFactor": user.totpEnabled] as [String: Any],
            "groups": groups.map { ["id": $0._id, "name": $0.name, "checked": user.groupIds.contains($0._id)] as [String: Any] },
            "roles": roles.map { ["id": $0._id, "name": $0.name, "checked": user.roleIds.contains($0._id)] as [String: Any] },
            "languages": renderer.catalogs.all.values.sorted { $0.code < $1.code }.map { ["code": $0.code, "name": $0.name, "selected": user.language == $0.code] as [String: Any] },
            "canEdit": identity.can(.users, .edit), "canDelete": identity.can(.users, .delete) && user._id != identity.user._id,
        ]
        values.merge(extra) { $1 }
        return renderer.page("user", title: "users.edit_title", values: values, context: context, status: status, active: "users")
    }

    @Sendable func edit(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await editPage(try context.parameters.require("id"), context: context)
    }

    @Sendable func update(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let id = try context.parameters.require("id")
        let form = try await FormData.read(request, context: context)
        do {
            _ = try await administration.updateUser(id, Self.input(form, creating: false), by: identity)
        } catch let error as InvalidInput {
            return try await editPage(id, context: context, values: ["error": renderer.message(error.key, error.arguments, context: context)], status: .unprocessableContent)
        }
        return .redirect(to: "/settings/users?notice=saved", type: .normal)
    }

    @Sendable func delete(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await administration.deleteUser(try context.parameters.require("id"), by: try context.requireIdentity())
        return .redirect(to: "/settings/users?notice=deleted", type: .normal)
    }

    @Sendable func unlock(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        try await administration.unlockUser(id, by: try context.requireIdentity())
        return .redirect(to: "/settings/users/\(id)", type: .normal)
    }

    @Sendable func resetPassword(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let password = try await administration.resetPassword(id, by: try context.requireIdentity())
        return try await editPage(id, context: context, values: ["oneTimePassword": password])
    }

    // MARK: API

    struct UserBody: Decodable {
        var login: String?, name: String?, email: String?, groupIds: [String]?, roleIds: [String]?, language: String?, active: Bool?, password: String?
        var input: AccessAdministration.UserInput {
            .init(login: login, name: name, email: email, groupIds: groupIds, roleIds: roleIds, language: language, active: active, password: password)
        }
    }

    @Sendable func apiList(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(ListView(items: try await administration.users(for: try context.requireIdentity()).map { UserView($0) }))
    }

    @Sendable func apiCreate(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try context.requireIdentity().require(.users, .create)
        let body = try await JSONBody.decode(UserBody.self, from: request)
        let (user, oneTime) = try await administration.createUser(body.input, by: try context.requireIdentity())
        return try JSONBody.response(UserView(user, oneTimePassword: oneTime), status: .created)
    }

    @Sendable func apiGet(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(UserView(try await administration.user(try context.parameters.require("id"), for: try context.requireIdentity())))
    }

    @Sendable func apiUpdate(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try context.requireIdentity().require(.users, .edit)
        var body = try await JSONBody.decode(UserBody.self, from: request)
        body.login = nil
        body.password = nil
        let user = try await administration.updateUser(try context.parameters.require("id"), body.input, by: try context.requireIdentity())
        return try JSONBody.response(UserView(user))
    }

    @Sendable func apiDelete(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await administration.deleteUser(try context.parameters.require("id"), by: try context.requireIdentity())
        return Response(status: .noContent)
    }
}
