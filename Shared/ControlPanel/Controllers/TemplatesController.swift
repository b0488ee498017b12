import Content
import CustomerData
import DataJobs
import Foundation
import Hummingbird
import Security
import Templates
import ServiceSupport

/// Message templates: `/templates` in the panel (an editor per channel — the email block builder
/// and HTML editor, SMS with its length, push with its previews — a live preview as any profile,
/// errors as you type, versions), fragments and data sources; `/api/v1/templates`,
/// `/api/v1/fragments` and `/api/v1/data-sources` in the API.
struct TemplatesController {
    let templates: TemplateService
    let customers: CustomerDataService
    let renderer: PanelRenderer

    func addRoutes(to router: Router<PanelRequestContext>) {
        router.get("/templates", use: list)
        router.post("/templates", use: create)
        router.post("/templates/check", use: check)
        router.get("/templates/fragments", use: fragmentsPage)
        router.post("/templates/fragments", use: createFragment)
        router.get("/templates/fragments/:fid", use: fragmentPage)
        router.post("/templates/fragments/:fid", use: saveFragment)
        router.post("/templates/fragments/:fid/delete", use: deleteFragment)
        router.get("/templates/sources", use: sourcesPage)
        router.post("/templates/sources", use: createSource)
        router.post("/templates/sources/:yid/delete", use: deleteSource)
        router.get("/templates/:tid", use: editor)
        router.post("/templates/:tid", use: save)
        router.post("/templates/:tid/preview", use: preview)
        router.post("/templates/:tid/test", use: testSend)
        router.get("/templates/:tid/versions/:n", use: versionPage)
        router.post("/templates/:tid/versions/:n/restore", use: restore)
        router.post("/templates/:tid/delete", use: delete)
        router.get("/api/v1/templates", use: apiList)
        router.post("/api/v1/templates", use: apiCreate)
        router.post("/api/v1/templates/check", use: check)
        router.get("/api/v1/templates/:tid", use: apiGet)
        router.put("/api/v1/templates/:tid", use: apiSave)
        router.delete("/api/v1/templates/:tid", use: apiDelete)
        router.get("/api/v1/templates/:tid/versions", use: apiVersions)
        router.get("/api/v1/templates/:tid/versions/:n", use: apiVersion)
        router.post("/api/v1/templates/:tid/preview", use: preview)
        router.get("/api/v1/fragments", use: apiFragments)
        router.post("/api/v1/fragments", use: apiCreateFragment)
        router.get("/api/v1/fragments/:fid", use: apiFragment)
        router.put("/api/v1/fragments/:fid", use: apiSaveFragment)
        router.delete("/api/v1/fragments/:fid", use: apiDeleteFragment)
        router.get("/api/v1/data-sources", use: apiSources)
        router.post("/api/v1/data-sources", use: apiCreateSource)
        router.delete("/api/v1/data-sources/:yid", use: apiDeleteSource)
    }

    static let channels: [Subscription.Channel] = [.email, .sms, .webPush, .mobilePush, .telegram, .inbox, .custom]

    // MARK: Panel: templates

    func listPage(context: PanelRequestContext, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = try context.requireIdentity()
        let catalog = renderer.catalogs[context.language]
        let databases = identity.can(.profiles, .view) ? try await customers.list(for: identity) : []
        return renderer.page("templates", title: "templates.title", values: [
            "templates": try await templates.list(for: identity).map { template -> [String: Any] in
                ["id": template._id, "name": template.name, "channel": catalog.text("channels." + template.channel.rawValue), "version": template.version,
                 "updated": template.updatedAt.formatted(.iso8601), "by": template.updatedBy]
            },
            "channels": Self.channels.map { ["value": $0.rawValue, "label": catalog.text("channels." + $0.rawValue)] },
            "databases": databases.map { ["id": $0._id, "name": $0.name] },
            "canCreate": identity.can(.templates, .create), "error": error ?? "",
        ], context: context, status: status, active: "templates")
    }

    @Sendable func list(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await listPage(context: context)
    }

    /// A new template starts from a working example of its channel.
    static func starter(_ channel: Subscription.Channel) -> MessageContent {
        switch channel {
        case .email:
            let design = EmailDesign(rows: [
                EmailRow(columns: [EmailColumn(blocks: [EmailBlock(type: .text, content: "<h1 style=\"margin:0;font-size:24px;\">Hello, {{ profile.first_name | default: \"friend\" | escape }}!</h1>")])]),
                EmailRow(columns: [EmailColumn(blocks: [EmailBlock(type: .text, content: "Write your message here."),
                                                        EmailBlock(type: .button, align: "left", href: "https://example.com", label: "Open")])]),
                EmailRow(columns: [EmailColumn(blocks: [EmailBlock(type: .html, content: "<p style=\"font-size:12px;color:#6b7280;\"><a href=\"{{ message.unsubscribe_url }}\">Unsubscribe</a></p>")])],
                         background: "#f9fafb"),
            ])
            return MessageContent(subject: "Hello, {{ profile.first_name | default: \"friend\" }}", design: design)
        case .sms: return MessageContent(body: "{{ profile.first_name | default: \"Hello\" }}, ")
        case .webPush, .mobilePush: return MessageContent(title: "{{ profile.first_name | default: \"Hello\" }}", body: "")
        case .inbox: return MessageContent(title: "", body: "")
        case .telegram, .custom: return MessageContent(body: "")
        }
    }

    @Sendable func create(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let form = try await FormData.read(request, context: context)
        let channel = Subscription.Channel(rawValue: form["channel"] ?? "") ?? .email
        do {
            let template = try await templates.create(name: form["name"] ?? "", channel: channel, databaseId: form["database"], content: Self.starter(channel),
                                                      by: try context.requireIdentity())
            return .redirect(to: "/templates/\(template._id)", type: .normal)
        } catch let error as InvalidInput {
            return try await listPage(context: context, error: renderer.message(error.key, error.arguments, context: context), status: .unprocessableContent)
        }
    }

    /// The content a form carries (the editor's fields by name; `design` as JSON when built from blocks).
    static func content(_ form: FormData) throws -> MessageContent {
        var content = MessageContent(subject: form["subject"] ?? "", preheader: form["preheader"] ?? "", fromName: form["fromName"] ?? "",
                                     fromAddress: form["fromAddress"] ?? "", replyTo: form["replyTo"] ?? "", html: form["html"] ?? "", text: form["text"] ?? "",
                                     title: form["title"] ?? "", body: form["body"] ?? "", image: form["image"] ?? "", link: form["link"] ?? "")
        for index in 0..<3 {
            let title = form["button\(index)Title"] ?? "", link = form["button\(index)Link"] ?? ""
            if !title.isEmpty || !link.isEmpty { content.buttons.append(PushButton(title: title, link: link)) }
        }
        if form["mode"] == "blocks", let design = form["design"], !design.isEmpty {
            do {
                content.design = try JSONDecoder().decode(EmailDesign.self, from: Data(design.utf8))
            } catch {
                throw InvalidInput("design", "invalid_value", "the block design is not readable: \(error)")
            }
        }
        return content
    }

    func editorPage(_ id: String, context: PanelRequestContext, draft: MessageContent? = nil, error: String? = nil, notice: String? = nil,
                    search: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response
    {
        let identity = try context.requireIdentity()
        let template = try await templates.template(id, for: identity)
        let catalog = renderer.catalogs[context.language]
        let content = draft ?? template.content
        var profiles: [[String: Any]] = []
        if let databaseId = template.databaseId, identity.can(.profiles, .view), let database = try? await customers.database(databaseId, for: identity) {
            let found = try await customers.profiles.list(database, search: search.flatMap { $0.isEmpty ? nil : $0 }, limit: 50)
            profiles = found.enumerated().map { ["id": $1._id, "title": CustomerDataService.title(of: $1, in: database), "first": $0 == 0 && search?.isEmpty == false] }
        }
        let designJSON = try content.design.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) } ?? ""
        let buttons = (0..<3).map { index -> [String: Any] in
            ["index": index, "title": index < content.buttons.count ? content.buttons[index].title : "", "link": index < content.buttons.count ? content.buttons[index].link : ""]
        }
        let versions = try await templates.versions(of: id, for: identity).prefix(20).map { version -> [String: Any] in
            ["number": version.number, "at": version.createdAt.formatted(.iso8601), "by": version.createdBy, "current": version.number == template.version]
        }
        let channel = template.channel
        return renderer.page("template", title: "templates.editor_title", values: [
            "template": ["id": template._id, "name": template.name, "version": template.version, "channel": channel.rawValue,
                         "channelLabel": catalog.text("channels." + channel.rawValue)] as [String: Any],
            "email": channel == .email, "sms": channel == .sms, "push": channel == .webPush || channel == .mobilePush, "inbox": channel == .inbox,
            "plain": channel == .telegram || channel == .custom, "blocks": channel == .email && content.design != nil,
            "content": ["subject": content.subject, "preheader": content.preheader, "fromName": content.fromName, "fromAddress": content.fromAddress,
                        "replyTo": content.replyTo, "html": content.html, "text": content.text, "title": content.title, "body": content.body,
                        "image": content.image, "link": content.link, "design": designJSON] as [String: Any],
            "buttons": buttons, "profiles": profiles, "versions": Array(versions), "search": search ?? "", "hasDatabase": template.databaseId != nil,
            "canEdit": identity.can(.templates, .edit), "canDelete": identity.can(.templates, .delete),
            "error": error ?? "", "notice": notice ?? "",
            "labels": String(decoding: try JSONSerialization.data(withJSONObject: Dictionary(uniqueKeysWithValues: Self.builderLabels.map { ($0, catalog.text("blocks." + $0)) })), as: UTF8.self),
        ], context: context, status: status, active: "templates")
    }

    static let builderLabels = ["text", "image", "button", "divider", "spacer", "social", "html", "products", "columns", "add_row", "remove", "up", "down",
                                "content", "align", "size", "src", "alt", "href", "width", "label", "color", "text_color", "height", "links", "source",
                                "limit", "image_key", "title_key", "price_key", "link_key", "row_background", "pick_block", "left", "center", "right"]

    @Sendable func editor(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await editorPage(try context.parameters.require("tid"), context: context,
                             notice: request.uri.queryParameters["notice"].map { renderer.catalogs[context.language].text("notices." + String($0)) },
                             search: request.uri.queryParameters["profile"].map(String.init))
    }

    @Sendable func save(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("tid")
        let form = try await FormData.read(request, context: context)
        var draft: MessageContent?
        do {
            let content = try Self.content(form)
            draft = content
            _ = try await templates.save(id, name: form["name"], databaseId: nil, content: content, by: try context.requireIdentity())
        } catch let error as InvalidInput {
            return try await editorPage(id, context: context, draft: draft, error: renderer.message(error.key, error.arguments, context: context), status: .unprocessableContent)
        }
        return .redirect(to: "/templates/\(id)?notice=saved", type: .normal)
    }

    @Sendable func delete(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await templates.delete(try context.parameters.require("tid"), by: try context.requireIdentity())
        return .redirect(to: "/templates", type: .normal)
    }

    @Sendable func versionPage(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let id = try context.parameters.require("tid")
        guard let number = Int(try context.parameters.require("n")) else { throw ObjectNotFound("version", "") }
        let template = try await templates.template(id, for: identity)
        let version = try await templates.version(number, of: id, for: identity)
        return renderer.page("template_version", title: "templates.version_title", values: [
            "template": ["id": template._id, "name": template.name, "version": template.version] as [String: Any],
            "version": ["number": version.number, "at": version.createdAt.formatted(.iso8601), "by": version.createdBy] as [String: Any],
            "parts": version.content.parts(for: template.channel).map { ["name": $0.name, "source": $0.source] },
            "canRestore": identity.can(.templates, .edit) && version.number != template.version,
        ], context: context, active: "templates")
    }

    @Sendable func restore(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let id = try context.parameters.require("tid")
        guard let number = Int(try context.parameters.require("n")) else { throw ObjectNotFound("version", "") }
        let version = try await templates.version(number, of: id, for: identity)
        _ = try await templates.save(id, name: nil, databaseId: nil, content: version.content, by: identity)
        return .redirect(to: "/templates/\(id)?notice=saved", type: .normal)
    }

    /// A test send needs the channel's sender; until one is set up, it says so.
    @Sendable func testSend(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("tid")
        let identity = try context.requireIdentity()
        try identity.require(.templates, .edit)
        let template = try await templates.template(id, for: identity)
        return try await editorPage(id, context: context, error: renderer.message("no_sender", [renderer.catalogs[context.language].text("channels." + template.channel.rawValue)], context: context),
                                    status: .conflict)
    }

    // MARK: Preview and checks (panel with the CSRF header, and API)

    struct PreviewBody: Decodable {
        let content: MessageContent
        let profileId: String?
    }

    @Sendable func preview(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.templates, .view)
        let template = try await templates.template(try context.parameters.require("tid"), for: identity)
        let body = try await JSONBody.decode(PreviewBody.self, from: request)
        return try JSONBody.response(try await templates.preview(body.content, channel: template.channel, databaseId: template.databaseId,
                                                                 profileId: body.profileId, for: identity))
    }

    struct CheckBody: Decodable {
        let channel: Subscription.Channel
        let content: MessageContent
    }

    struct CheckAnswer: Encodable {
        let errors: [ContentErrors.Failure]
        let sms: SMS?
        struct SMS: Encodable { let encoding: String, characters: Int, segments: Int, perSegment: Int }
    }

    /// Syntax errors as the writer types (and, for an SMS, its length in characters and parts).
    @Sendable func check(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.templates, .view)
        let body = try await JSONBody.decode(CheckBody.self, from: request)
        let errors = try await templates.check(body.content, channel: body.channel, for: identity)
        var sms: CheckAnswer.SMS?
        if body.channel == .sms {
            let count = SMSSegments(body.content.body)
            let perSegment = count.encoding == .gsm7 ? (count.parts > 1 ? 153 : 160) : (count.parts > 1 ? 67 : 70)
            sms = .init(encoding: count.encoding == .gsm7 ? "GSM-7" : "UCS-2", characters: count.characters, segments: count.parts, perSegment: perSegment)
        }
        return try JSONBody.response(CheckAnswer(errors: errors, sms: sms))
    }

    // MARK: Panel: fragments

    func fragmentsListPage(context: PanelRequestContext, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = try context.requireIdentity()
        return renderer.page("fragments", title: "fragments.title", values: [
            "fragments": try await templates.fragmentList(for: identity).map { ["id": $0._id, "key": $0.key, "title": $0.title, "updated": $0.updatedAt.formatted(.iso8601)] },
            "canCreate": identity.can(.templates, .create), "error": error ?? "",
        ], context: context, status: status, active: "templates")
    }

    @Sendable func fragmentsPage(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await fragmentsListPage(context: context)
    }

    @Sendable func createFragment(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let form = try await FormData.read(request, context: context)
        do {
            let fragment = try await templates.saveFragment(nil, key: form["key"] ?? "", title: form["title"] ?? "", source: form["source"] ?? "", by: try context.requireIdentity())
            return .redirect(to: "/templates/fragments/\(fragment._id)", type: .normal)
        } catch let error as InvalidInput {
            return try await fragmentsListPage(context: context, error: renderer.message(error.key, error.arguments, context: context), status: .unprocessableContent)
        }
    }

    func fragmentEditor(_ id: String, context: PanelRequestContext, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = try context.requireIdentity()
        let fragment = try await templates.fragment(id, for: identity)
        let users = try await templates.usage(of: fragment.key, for: identity)
        return renderer.page("fragment", title: "fragments.fragment_title", values: [
            "fragment": ["id": fragment._id, "key": fragment.key, "title": fragment.title, "source": fragment.source] as [String: Any],
            "usage": users.map { ["href": $0.kind == "template" ? "/templates/\($0.id)" : "/templates/fragments/\($0.id)", "name": $0.name] },
            "canEdit": identity.can(.templates, .edit), "canDelete": identity.can(.templates, .delete), "error": error ?? "",
        ], context: context, status: status, active: "templates")
    }

    @Sendable func fragmentPage(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await fragmentEditor(try context.parameters.require("fid"), context: context)
    }

    @Sendable func saveFragment(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("fid")
        let form = try await FormData.read(request, context: context)
        do {
            _ = try await templates.saveFragment(id, key: form["key"] ?? "", title: form["title"] ?? "", source: form["source"] ?? "", by: try context.requireIdentity())
        } catch let error as InvalidInput {
            return try await fragmentEditor(id, context: context, error: renderer.message(error.key, error.arguments, context: context), status: .unprocessableContent)
        }
        return .redirect(to: "/templates/fragments/\(id)", type: .normal)
    }

    @Sendable func deleteFragment(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("fid")
        do {
            try await templates.deleteFragment(id, by: try context.requireIdentity())
        } catch let error as InvalidInput {
            return try await fragmentEditor(id, context: context, error: renderer.message(error.key, error.arguments, context: context), status: .unprocessableContent)
        }
        return .redirect(to: "/templates/fragments", type: .normal)
    }

    // MARK: Panel: data sources

    func sourcesListPage(context: PanelRequestContext, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = try context.requireIdentity()
        return renderer.page("sources", title: "sources.title", values: [
            "sources": try await templates.sourceList(for: identity).map { source -> [String: Any] in
                ["id": source._id, "name": source.name, "kind": source.kind.rawValue, "url": source.kind == .sql ? SQLSync.redacted(source.url) : source.url,
                 "timeout": source.timeoutMilliseconds, "cache": source.cacheSeconds, "fallback": source.fallback.isEmpty ? "null" : source.fallback, "required": source.required]
            },
            "canCreate": identity.can(.templates, .create), "canDelete": identity.can(.templates, .delete), "error": error ?? "",
            "urlExample": "https://shop.example/api/recs?email={{ profile.email | url_encode }}",
        ], context: context, status: status, active: "templates")
    }

    @Sendable func sourcesPage(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await sourcesListPage(context: context)
    }

    static func source(_ form: FormData) -> DataSource {
        var headers: [String: String] = [:]
        for line in (form["headers"] ?? "").split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, !parts[0].isEmpty { headers[parts[0]] = parts[1] }
        }
        return DataSource(accountId: "", name: form["name"] ?? "", kind: DataSource.Kind(rawValue: form["kind"] ?? "") ?? .http, url: form["url"] ?? "",
                          query: form["query"] ?? "", parameters: (form["parameters"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty },
                          headers: headers, timeoutMilliseconds: Int(form["timeout"] ?? "") ?? 2000, cacheSeconds: Int(form["cache"] ?? "") ?? 300,
                          fallback: form["fallback"] ?? "", required: form.flag("required"))
    }

    @Sendable func createSource(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let form = try await FormData.read(request, context: context)
        do {
            _ = try await templates.createSource(Self.source(form), by: try context.requireIdentity())
        } catch let error as InvalidInput {
            return try await sourcesListPage(context: context, error: renderer.message(error.key, error.arguments, context: context), status: .unprocessableContent)
        }
        return .redirect(to: "/templates/sources", type: .normal)
    }

    @Sendable func deleteSource(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await templates.deleteSource(try context.parameters.require("yid"), by: try context.requireIdentity())
        return .redirect(to: "/templates/sources", type: .normal)
    }

    // MARK: API

    struct TemplateBody: Decodable {
        let name: String?
        let channel: Subscription.Channel?
        let databaseId: String?
        let content: MessageContent?
    }

    struct TemplateView: Encodable {
        let id: String, name: String, channel: String, databaseId: String?, version: Int, content: MessageContent, createdAt: Date, updatedAt: Date, updatedBy: String
        init(_ template: MessageTemplate) {
            id = template._id; name = template.name; channel = template.channel.rawValue; databaseId = template.databaseId; version = template.version
            content = template.content; createdAt = template.createdAt; updatedAt = template.updatedAt; updatedBy = template.updatedBy
        }
    }

    struct VersionView: Encodable {
        let number: Int, content: MessageContent, createdAt: Date, createdBy: String
        init(_ version: TemplateVersion) { number = version.number; content = version.content; createdAt = version.createdAt; createdBy = version.createdBy }
    }

    @Sendable func apiList(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(ListView(items: try await templates.list(for: try context.requireIdentity()).map(TemplateView.init)))
    }

    @Sendable func apiCreate(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.templates, .create)
        let body = try await JSONBody.decode(TemplateBody.self, from: request)
        guard let channel = body.channel else { throw APIError(.badRequest, code: "missing_field", message: "the field 'channel' is required", field: "channel") }
        let template = try await templates.create(name: body.name ?? "", channel: channel, databaseId: body.databaseId, content: body.content ?? Self.starter(channel), by: identity)
        return try JSONBody.response(TemplateView(template), status: .created)
    }

    @Sendable func apiGet(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(TemplateView(try await templates.template(try context.parameters.require("tid"), for: try context.requireIdentity())))
    }

    @Sendable func apiSave(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.templates, .edit)
        let body = try await JSONBody.decode(TemplateBody.self, from: request)
        let id = try context.parameters.require("tid")
        let current = try await templates.template(id, for: identity)
        return try JSONBody.response(TemplateView(try await templates.save(id, name: body.name, databaseId: body.databaseId.map { Optional($0) },
                                                                             content: body.content ?? current.content, by: identity)))
    }

    @Sendable func apiDelete(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await templates.delete(try context.parameters.require("tid"), by: try context.requireIdentity())
        return Response(status: .noContent)
    }

    @Sendable func apiVersions(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(ListView(items: try await templates.versions(of: try context.parameters.require("tid"), for: try context.requireIdentity()).map(VersionView.init)))
    }

    @Sendable func apiVersion(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try context.requireIdentity().require(.templates, .view)
        guard let number = Int(try context.parameters.require("n")) else { throw ObjectNotFound("version", "") }
        return try JSONBody.response(VersionView(try await templates.version(number, of: try context.parameters.require("tid"), for: try context.requireIdentity())))
    }

    struct FragmentBody: Decodable {
        let key: String
        let title: String?
        let source: String
    }

    struct FragmentView: Encodable {
        let id: String, key: String, title: String, source: String, updatedAt: Date, usedBy: [String]?
        init(_ fragment: TemplateFragment, usedBy: [String]? = nil) {
            id = fragment._id; key = fragment.key; title = fragment.title; source = fragment.source; updatedAt = fragment.updatedAt; self.usedBy = usedBy
        }
    }

    @Sendable func apiFragments(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(ListView(items: try await templates.fragmentList(for: try context.requireIdentity()).map { FragmentView($0) }))
    }

    @Sendable func apiCreateFragment(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.templates, .create)
        let body = try await JSONBody.decode(FragmentBody.self, from: request)
        return try JSONBody.response(FragmentView(try await templates.saveFragment(nil, key: body.key, title: body.title ?? body.key, source: body.source, by: identity)), status: .created)
    }

    @Sendable func apiFragment(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let fragment = try await templates.fragment(try context.parameters.require("fid"), for: identity)
        return try JSONBody.response(FragmentView(fragment, usedBy: try await templates.usage(of: fragment.key, for: identity).map { "\($0.kind):\($0.id)" }))
    }

    @Sendable func apiSaveFragment(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.templates, .edit)
        let body = try await JSONBody.decode(FragmentBody.self, from: request)
        return try JSONBody.response(FragmentView(try await templates.saveFragment(try context.parameters.require("fid"), key: body.key, title: body.title ?? body.key,
                                                                                   source: body.source, by: identity)))
    }

    @Sendable func apiDeleteFragment(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await templates.deleteFragment(try context.parameters.require("fid"), by: try context.requireIdentity())
        return Response(status: .noContent)
    }

    struct SourceView: Encodable {
        let id: String, name: String, kind: String, url: String, query: String, parameters: [String], headers: [String: String]
        let timeoutMilliseconds: Int, cacheSeconds: Int, fallback: String, required: Bool
        init(_ source: DataSource) {
            id = source._id; name = source.name; kind = source.kind.rawValue; url = source.kind == .sql ? SQLSync.redacted(source.url) : source.url
            query = source.query; parameters = source.parameters; headers = source.headers.mapValues { _ in "***" }
            timeoutMilliseconds = source.timeoutMilliseconds; cacheSeconds = source.cacheSeconds; fallback = source.fallback; required = source.required
        }
    }

    struct SourceBody: Decodable {
        let name: String
        let kind: DataSource.Kind
        let url: String
        let query: String?
        let parameters: [String]?
        let headers: [String: String]?
        let timeoutMilliseconds: Int?
        let cacheSeconds: Int?
        let fallback: String?
        let required: Bool?
    }

    @Sendable func apiSources(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(ListView(items: try await templates.sourceList(for: try context.requireIdentity()).map(SourceView.init)))
    }

    @Sendable func apiCreateSource(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.templates, .create)
        let body = try await JSONBody.decode(SourceBody.self, from: request)
        let source = DataSource(accountId: "", name: body.name, kind: body.kind, url: body.url, query: body.query ?? "", parameters: body.parameters ?? [],
                                headers: body.headers ?? [:], timeoutMilliseconds: body.timeoutMilliseconds ?? 2000, cacheSeconds: body.cacheSeconds ?? 300,
                                fallback: body.fallback ?? "", required: body.required ?? false)
        return try JSONBody.response(SourceView(try await templates.createSource(source, by: identity)), status: .created)
    }

    @Sendable func apiDeleteSource(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await templates.deleteSource(try context.parameters.require("yid"), by: try context.requireIdentity())
        return Response(status: .noContent)
    }
}
