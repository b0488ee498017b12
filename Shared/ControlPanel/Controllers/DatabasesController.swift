import CustomerData
import Foundation
import Hummingbird
import Tracking
import Security

/// Profile databases and their schemas: `/databases` in the panel, `/api/v1/databases` in the API.
struct DatabasesController {
    let customers: CustomerDataService
    let renderer: PanelRenderer
    /// For the site-tracking snippet: the tracking secret and the tracker's address.
    let tracking: ControlPanel.Settings

    func addRoutes(to router: Router<PanelRequestContext>) {
        router.get("/databases", use: list)
        router.post("/databases", use: create)
        router.get("/databases/:id", use: schema)
        router.post("/databases/:id", use: rename)
        router.post("/databases/:id/delete", use: delete)
        router.post("/databases/:id/fields", use: addField)
        router.get("/databases/:id/fields/:key", use: fieldPage)
        router.post("/databases/:id/fields/:key", use: changeField)
        router.post("/databases/:id/fields/:key/delete", use: deleteField)
        router.get("/api/v1/databases", use: apiList)
        router.post("/api/v1/databases", use: apiCreate)
        router.get("/api/v1/databases/:id", use: apiGet)
        router.patch("/api/v1/databases/:id", use: apiUpdate)
        router.delete("/api/v1/databases/:id", use: apiDelete)
        router.post("/api/v1/databases/:id/fields", use: apiAddField)
        router.put("/api/v1/databases/:id/fields/:key", use: apiChangeField)
        router.delete("/api/v1/databases/:id/fields/:key", use: apiDeleteField)
    }

    // MARK: Panel

    func listPage(_ context: PanelRequestContext, extra: [String: Any] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = try context.requireIdentity()
        var rows: [[String: Any]] = []
        for database in try await customers.list(for: identity) {
            rows.append(["id": database._id, "name": database.name, "description": database.description, "fields": database.fields.count,
                         "profiles": try await customers.profiles.count(database)])
        }
        var values: [String: Any] = ["databases": rows, "canCreate": identity.can(.databases, .create)]
        values.merge(extra) { $1 }
        return renderer.page("databases", title: "databases.title", values: values, context: context, status: status, active: "databases")
    }

    @Sendable func list(_ request: Request, context: PanelRequestContext) async throws -> Response {
        var extra: [String: Any] = [:]
        if let notice = request.uri.queryParameters["notice"] { extra["notice"] = renderer.catalogs[context.language].text("notices." + String(notice)) }
        return try await listPage(context, extra: extra)
    }

    @Sendable func create(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let form = try await FormData.read(request, context: context)
        do {
            let database = try await customers.createDatabase(name: form["name"] ?? "", description: form["description"] ?? "", fields: nil,
                                                              by: try context.requireIdentity())
            return .redirect(to: "/databases/\(database._id)", type: .normal)
        } catch let error as InvalidInput {
            return try await listPage(context, extra: ["error": renderer.message(error.key, error.arguments, context: context)], status: .unprocessableContent)
        }
    }

    static func typeOptions(_ catalog: Catalog, selected: FieldType?) -> [[String: Any]] {
        FieldType.allCases.map { ["value": $0.rawValue, "label": catalog.text("field_types." + $0.rawValue), "selected": $0 == selected] }
    }

    func schemaPage(_ id: String, context: PanelRequestContext, extra: [String: Any] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = try context.requireIdentity()
        let database = try await customers.database(id, for: identity)
        let catalog = renderer.catalogs[context.language]
        var values: [String: Any] = [
            "database": ["id": database._id, "name": database.name, "description": database.description] as [String: Any],
            "fields": database.fields.map { field -> [String: Any] in
                ["key": field.key, "title": field.title, "type": catalog.text("field_types." + field.type.rawValue), "required": field.required,
                 "unique": field.unique, "indexed": field.indexed, "details": (field.options + field.columns.map { "\($0.key): \($0.type.rawValue)" }).joined(separator: ", ")]
            },
            "types": Self.typeOptions(catalog, selected: nil),
            "profiles": try await customers.profiles.count(database),
            "canEdit": identity.can(.databases, .edit), "canDelete": identity.can(.databases, .delete), "canViewProfiles": identity.can(.profiles, .view),
        ]
        if !tracking.trackingSecret.isEmpty {
            let key = TrackingSigner(secret: tracking.trackingSecret).encode(TrackingToken(kind: .site, accountId: database.accountId, databaseId: database._id, messageId: "", profileId: ""))
            let base = tracking.trackingURL.hasSuffix("/") ? String(tracking.trackingURL.dropLast()) : tracking.trackingURL
            values["siteSnippet"] = "<script async src=\"\(base)/js/herald.js\" data-site=\"\(key)\"></script>"
        }
        values.merge(extra) { $1 }
        return renderer.page("database", title: "databases.schema_title", values: values, context: context, status: status, active: "databases")
    }

    @Sendable func schema(_ request: Request, context: PanelRequestContext) async throws -> Response {
        var extra: [String: Any] = [:]
        if let notice = request.uri.queryParameters["notice"] { extra["notice"] = renderer.catalogs[context.language].text("notices." + String(notice)) }
        return try await schemaPage(try context.parameters.require("id"), context: context, extra: extra)
    }

    @Sendable func rename(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let form = try await FormData.read(request, context: context)
        do {
            _ = try await customers.renameDatabase(id, name: form["name"], description: form["description"], by: try context.requireIdentity())
        } catch let error as InvalidInput {
            return try await schemaPage(id, context: context, extra: ["error": renderer.message(error.key, error.arguments, context: context)], status: .unprocessableContent)
        }
        return .redirect(to: "/databases/\(id)?notice=saved", type: .normal)
    }

    @Sendable func delete(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let form = try await FormData.read(request, context: context)
        do {
            try await customers.deleteDatabase(id, confirmation: form["confirm"] ?? "", by: try context.requireIdentity())
        } catch let error as InvalidInput {
            return try await schemaPage(id, context: context, extra: ["error": renderer.message(error.key, error.arguments, context: context)], status: .unprocessableContent)
        }
        return .redirect(to: "/databases?notice=deleted", type: .normal)
    }

    /// A field from the panel's form: options one per line, table columns as `key: type` lines.
    static func field(from form: FormData, key: String) throws -> FieldDefinition {
        guard let type = FieldType(rawValue: form["type"] ?? "") else { throw InvalidInput("type", "unknown_field_type", form["type"] ?? "") }
        let options = (form["options"] ?? "").split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var columns: [FieldDefinition] = []
        for line in (form["columns"] ?? "").split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let columnType = FieldType(rawValue: parts[1]) else { throw InvalidInput("columns", "column_line_invalid", String(line)) }
            columns.append(FieldDefinition(key: parts[0], title: parts[0], type: columnType))
        }
        return FieldDefinition(key: key, title: (form["title"] ?? "").trimmingCharacters(in: .whitespaces), type: type, required: form.flag("required"),
                               unique: form.flag("unique"), indexed: form.flag("indexed"), options: options, columns: columns)
    }

    @Sendable func addField(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let form = try await FormData.read(request, context: context)
        do {
            let key = (form["key"] ?? "").trimmingCharacters(in: .whitespaces)
            _ = try await customers.addField(try Self.field(from: form, key: key), to: id, by: try context.requireIdentity())
        } catch let error as InvalidInput {
            return try await schemaPage(id, context: context, extra: ["error": error.field + ": " + renderer.message(error.key, error.arguments, context: context)],
                                        status: .unprocessableContent)
        }
        return .redirect(to: "/databases/\(id)?notice=saved", type: .normal)
    }

    func fieldForm(_ id: String, key: String, context: PanelRequestContext, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = try context.requireIdentity()
        let database = try await customers.database(id, for: identity)
        guard let field = database.field(key) else { throw ObjectNotFound("field", key) }
        let catalog = renderer.catalogs[context.language]
        return renderer.page("field", title: "databases.field_title", values: [
            "database": ["id": database._id, "name": database.name] as [String: Any],
            "field": ["key": field.key, "title": field.title, "required": field.required, "unique": field.unique, "indexed": field.indexed,
                      "options": field.options.joined(separator: "\n"),
                      "columns": field.columns.map { "\($0.key): \($0.type.rawValue)" }.joined(separator: "\n")] as [String: Any],
            "types": Self.typeOptions(catalog, selected: field.type), "error": error ?? "", "canEdit": identity.can(.databases, .edit),
        ], context: context, status: status, active: "databases")
    }

    @Sendable func fieldPage(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await fieldForm(try context.parameters.require("id"), key: try context.parameters.require("key"), context: context)
    }

    @Sendable func changeField(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id"), key = try context.parameters.require("key")
        let form = try await FormData.read(request, context: context)
        do {
            _ = try await customers.changeField(key, to: try Self.field(from: form, key: key), in: id, by: try context.requireIdentity())
        } catch let error as InvalidInput {
            return try await fieldForm(id, key: key, context: context, error: renderer.message(error.key, error.arguments, context: context), status: .unprocessableContent)
        }
        return .redirect(to: "/databases/\(id)?notice=saved", type: .normal)
    }

    @Sendable func deleteField(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id"), key = try context.parameters.require("key")
        let form = try await FormData.read(request, context: context)
        do {
            _ = try await customers.deleteField(key, from: id, confirmation: form["confirm"] ?? "", by: try context.requireIdentity())
        } catch let error as InvalidInput {
            return try await fieldForm(id, key: key, context: context, error: renderer.message(error.key, error.arguments, context: context), status: .unprocessableContent)
        }
        return .redirect(to: "/databases/\(id)?notice=saved", type: .normal)
    }

    // MARK: API

    struct DatabaseBody: Decodable {
        let name: String?
        let description: String?
        let fields: [FieldDefinition]?
    }

    @Sendable func apiList(_ request: Request, context: PanelRequestContext) async throws -> Response {
        var views: [DatabaseView] = []
        for database in try await customers.list(for: try context.requireIdentity()) {
            views.append(DatabaseView(database, profiles: try await customers.profiles.count(database)))
        }
        return try JSONBody.response(ListView(items: views))
    }

    @Sendable func apiGet(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let database = try await customers.database(try context.parameters.require("id"), for: try context.requireIdentity())
        return try JSONBody.response(DatabaseView(database, profiles: try await customers.profiles.count(database)))
    }

    @Sendable func apiCreate(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.databases, .create)
        let body = try await JSONBody.decode(DatabaseBody.self, from: request)
        let database = try await customers.createDatabase(name: body.name ?? "", description: body.description ?? "", fields: body.fields, by: identity)
        return try JSONBody.response(DatabaseView(database, profiles: 0), status: .created)
    }

    @Sendable func apiUpdate(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.databases, .edit)
        let body = try await JSONBody.decode(DatabaseBody.self, from: request)
        let database = try await customers.renameDatabase(try context.parameters.require("id"), name: body.name, description: body.description, by: identity)
        return try JSONBody.response(DatabaseView(database))
    }

    @Sendable func apiDelete(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await customers.deleteDatabase(try context.parameters.require("id"), confirmation: request.uri.queryParameters["confirm"].map(String.init) ?? "",
                                           by: try context.requireIdentity())
        return Response(status: .noContent)
    }

    @Sendable func apiAddField(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.databases, .edit)
        let field = try await JSONBody.decode(FieldDefinition.self, from: request)
        return try JSONBody.response(DatabaseView(try await customers.addField(field, to: try context.parameters.require("id"), by: identity)), status: .created)
    }

    @Sendable func apiChangeField(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.databases, .edit)
        let field = try await JSONBody.decode(FieldDefinition.self, from: request)
        let database = try await customers.changeField(try context.parameters.require("key"), to: field, in: try context.parameters.require("id"), by: identity)
        return try JSONBody.response(DatabaseView(database))
    }

    @Sendable func apiDeleteField(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let key = try context.parameters.require("key")
        let database = try await customers.deleteField(key, from: try context.parameters.require("id"),
                                                       confirmation: request.uri.queryParameters["confirm"].map(String.init) ?? "", by: try context.requireIdentity())
        return try JSONBody.response(DatabaseView(database))
    }
}
