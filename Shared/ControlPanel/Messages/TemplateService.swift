import BSON
import Content
import CustomerData
import Foundation
import Mongo
import Security
import Templates

/// Message templates, their versions, fragments and data sources, for the panel and the API:
/// permission-checked, inside the caller's account, audited. Every save of a template makes a new
/// immutable version; a template whose parts do not compile is refused with every error's part,
/// line and column.
public struct TemplateService: Sendable {
    public let templates: MongoCollection<MessageTemplate>
    public let versions: MongoCollection<TemplateVersion>
    public let fragments: MongoCollection<TemplateFragment>
    public let sources: MongoCollection<DataSource>
    public let library: TemplateLibrary
    let customers: CustomerDataService
    let audit: AuditLog

    public init(settings: MongoDatabase, customers: CustomerDataService, audit: AuditLog) {
        library = TemplateLibrary(settings: settings)
        templates = library.templates
        versions = library.versions
        fragments = library.fragments
        sources = library.sources
        self.customers = customers
        self.audit = audit
    }

    public func prepare() async throws {
        try await templates.createIndexes([IndexModel(keys: ["accountId": 1, "name": 1], name: "account_name_unique", unique: true)])
        try await versions.createIndexes([IndexModel(keys: ["templateId": 1, "number": -1], name: "template_number")])
        try await fragments.createIndexes([IndexModel(keys: ["accountId": 1, "key": 1], name: "account_key_unique", unique: true)])
        try await sources.createIndexes([IndexModel(keys: ["accountId": 1, "name": 1], name: "account_name_unique", unique: true)])
    }

    // MARK: Templates

    public func list(for identity: Identity) async throws -> [MessageTemplate] {
        try identity.require(.templates, .view)
        return try await templates.find(["accountId": .string(identity.account._id)], options: FindOptions(sort: ["name": 1])).collect()
    }

    public func template(_ id: String, for identity: Identity) async throws -> MessageTemplate {
        try identity.require(.templates, .view)
        guard let filter = SecurityStore.byId(id, in: identity.account._id), let template = try await templates.findOne(filter) else {
            throw ObjectNotFound("template", id)
        }
        return template
    }

    /// Compiles a content for a channel with the account's fragments; the errors, or nothing.
    public func check(_ content: MessageContent, channel: Subscription.Channel, for identity: Identity) async throws -> [ContentErrors.Failure] {
        do {
            _ = try await compose(content, channel: channel, account: identity.account._id)
            return []
        } catch let errors as ContentErrors {
            return errors.failures
        }
    }

    /// The content compiled with the account's fragments (the block design's HTML made first).
    public func compose(_ content: MessageContent, channel: Subscription.Channel, account: String) async throws -> ComposedMessage {
        try await library.compose(content, channel: channel, account: account)
    }

    static func prepared(_ content: MessageContent, channel: Subscription.Channel) -> MessageContent {
        TemplateLibrary.prepared(content, channel: channel)
    }

    public func create(name: String, channel: Subscription.Channel, databaseId: String?, content: MessageContent, by identity: Identity) async throws -> MessageTemplate {
        try identity.require(.templates, .create)
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 100 else { throw InvalidInput("name", "name_required") }
        let databaseId = try await checkedDatabase(databaseId, for: identity)
        let content = Self.prepared(content, channel: channel)
        try await requireValid(content, channel: channel, for: identity)
        let template = MessageTemplate(accountId: identity.account._id, name: name, channel: channel, databaseId: databaseId, content: content, by: identity.user.login)
        do {
            try await templates.insertOne(template)
        } catch let error as MongoError where error.code == .duplicateKey {
            throw InvalidInput("name", "name_taken", name)
        }
        try await versions.insertOne(TemplateVersion(of: template))
        try await audit.record(identity.actor, "template.create", kind: "template", id: template._id, name: name,
                               changes: [.init(field: "channel", before: nil, after: channel.rawValue)])
        return template
    }

    /// Saves new content (and name or database) as the next version.
    public func save(_ id: String, name: String?, databaseId: String??, content: MessageContent, by identity: Identity) async throws -> MessageTemplate {
        try identity.require(.templates, .edit)
        let before = try await template(id, for: identity)
        var after = before
        if let name {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, trimmed.count <= 100 else { throw InvalidInput("name", "name_required") }
            after.name = trimmed
        }
        if let databaseId { after.databaseId = try await checkedDatabase(databaseId, for: identity) }
        let content = Self.prepared(content, channel: before.channel)
        try await requireValid(content, channel: before.channel, for: identity)
        after.content = content
        let changed = content != before.content
        if changed { after.version += 1 }
        after.updatedAt = Date()
        after.updatedBy = identity.user.login
        do {
            _ = try await templates.replaceOne(filter: ["_id": .string(id), "accountId": .string(identity.account._id)], replacement: after)
        } catch let error as MongoError where error.code == .duplicateKey {
            throw InvalidInput("name", "name_taken", after.name)
        }
        if changed { try await versions.insertOne(TemplateVersion(of: after)) }
        try await audit.record(identity.actor, "template.save", kind: "template", id: id, name: after.name, changes: [
            .init(field: "name", before: before.name, after: after.name), .init(field: "version", before: String(before.version), after: String(after.version)),
        ].filter { $0.before != $0.after })
        return after
    }

    public func delete(_ id: String, by identity: Identity) async throws {
        try identity.require(.templates, .delete)
        let template = try await template(id, for: identity)
        _ = try await templates.deleteOne(["_id": .string(id), "accountId": .string(identity.account._id)])
        try await audit.record(identity.actor, "template.delete", kind: "template", id: id, name: template.name)
    }

    public func versions(of id: String, for identity: Identity) async throws -> [TemplateVersion] {
        let template = try await template(id, for: identity)
        return try await versions.find(["templateId": .string(template._id)], options: FindOptions(sort: ["number": -1])).collect()
    }

    public func version(_ number: Int, of id: String, for identity: Identity) async throws -> TemplateVersion {
        let template = try await template(id, for: identity)
        guard let version = try await versions.findOne(["_id": .string("\(template._id):\(number)")]) else { throw ObjectNotFound("version", String(number)) }
        return version
    }

    func requireValid(_ content: MessageContent, channel: Subscription.Channel, for identity: Identity) async throws {
        let failures = try await check(content, channel: channel, for: identity)
        guard let first = failures.first else { return }
        throw InvalidInput(first.part, "template_invalid", failures.map(\.message).joined(separator: "\n"))
    }

    func checkedDatabase(_ id: String?, for identity: Identity) async throws -> String? {
        guard let id, !id.isEmpty else { return nil }
        return try await customers.database(id, for: identity)._id
    }

    // MARK: Preview

    /// One profile's message: rendered with its data, the account's data sources the content
    /// reads, and sample message links; or why it cannot be.
    public func preview(_ content: MessageContent, channel: Subscription.Channel, databaseId: String?, profileId: String?, for identity: Identity) async throws -> PreviewResult {
        try identity.require(.templates, .view)
        let message: ComposedMessage
        do {
            message = try await compose(content, channel: channel, account: identity.account._id)
        } catch let errors as ContentErrors {
            return PreviewResult(parts: [:], errors: errors.failures, failure: nil, profile: nil)
        }
        var profile: Profile?
        var title: String?
        if let databaseId, !databaseId.isEmpty, let profileId, !profileId.isEmpty, identity.can(.profiles, .view) {
            let (database, found) = try await customers.profile(profileId, in: databaseId, for: identity, audited: false)
            profile = found
            title = CustomerDataService.title(of: found, in: database)
        }
        var context: [String: TemplateValue] = [
            "profile": profile.map(TemplateData.profile) ?? .object([:]),
            "message": Self.sampleMessage,
            "campaign": ["name": "Preview", "id": "preview"],
        ]
        do {
            let lookup = try DataLookup(sources: try await sources.find(["accountId": .string(identity.account._id)]).collect())
            for (name, value) in try await lookup.values(for: message, profile: profile) { context[name] = value }
            return PreviewResult(parts: try message.render(context).parts, errors: [], failure: nil, profile: title)
        } catch let failure as LookupFailure {
            return PreviewResult(parts: [:], errors: [], failure: failure.description, profile: title)
        } catch let failure as RenderFailure {
            return PreviewResult(parts: [:], errors: [], failure: failure.description, profile: title)
        } catch let errors as ContentErrors {
            return PreviewResult(parts: [:], errors: errors.failures, failure: nil, profile: title)
        }
    }

    /// What a sending puts in `message` (links the tracker makes per recipient), as placeholders.
    static let sampleMessage: TemplateValue = [
        "unsubscribe_url": "https://track.example/u/preview", "web_version_url": "https://track.example/w/preview",
        "tracking_pixel": "<img src=\"https://track.example/o/preview.gif\" width=\"1\" height=\"1\" alt=\"\">", "promo_code": "PREVIEW-CODE",
    ]

    public struct PreviewResult: Sendable, Encodable {
        public let parts: [String: String]
        public let errors: [ContentErrors.Failure]
        /// A render or a required source failed for this profile.
        public let failure: String?
        /// Whose message this is.
        public let profile: String?
    }

    // MARK: Fragments

    public func fragmentList(for identity: Identity) async throws -> [TemplateFragment] {
        try identity.require(.templates, .view)
        return try await fragments.find(["accountId": .string(identity.account._id)], options: FindOptions(sort: ["key": 1])).collect()
    }

    public func fragment(_ id: String, for identity: Identity) async throws -> TemplateFragment {
        try identity.require(.templates, .view)
        guard let filter = SecurityStore.byId(id, in: identity.account._id), let fragment = try await fragments.findOne(filter) else {
            throw ObjectNotFound("fragment", id)
        }
        return fragment
    }

    /// Creates a fragment (id nil) or changes one; its source must compile.
    public func saveFragment(_ id: String?, key: String, title: String, source: String, by identity: Identity) async throws -> TemplateFragment {
        try identity.require(.templates, id == nil ? .create : .edit)
        guard TemplateFragment.isValidKey(key) else { throw InvalidInput("key", "invalid_setting", "a key is lower-case letters, digits, _ and -, starting with a letter") }
        do {
            _ = try TemplateEngine().compile(source, name: key)
        } catch {
            throw InvalidInput("source", "template_invalid", error.description)
        }
        var fragment: TemplateFragment
        var before: TemplateFragment?
        if let id {
            fragment = try await self.fragment(id, for: identity)
            before = fragment
            fragment.key = key
            fragment.title = title
            fragment.source = source
            fragment.updatedAt = Date()
            fragment.updatedBy = identity.user.login
        } else {
            fragment = TemplateFragment(accountId: identity.account._id, key: key, title: title, source: source, by: identity.user.login)
        }
        do {
            if id == nil {
                try await fragments.insertOne(fragment)
            } else {
                _ = try await fragments.replaceOne(filter: ["_id": .string(fragment._id), "accountId": .string(identity.account._id)], replacement: fragment)
            }
        } catch let error as MongoError where error.code == .duplicateKey {
            throw InvalidInput("key", "name_taken", key)
        }
        try await audit.record(identity.actor, id == nil ? "fragment.create" : "fragment.save", kind: "fragment", id: fragment._id, name: key,
                               changes: [.init(field: "source", before: before?.source, after: source)].filter { $0.before != $0.after })
        return fragment
    }

    public func deleteFragment(_ id: String, by identity: Identity) async throws {
        try identity.require(.templates, .delete)
        let fragment = try await fragment(id, for: identity)
        let users = try await usage(of: fragment.key, for: identity)
        guard users.isEmpty else { throw InvalidInput("fragment", "fragment_in_use", users.map(\.name).joined(separator: ", ")) }
        _ = try await fragments.deleteOne(["_id": .string(id), "accountId": .string(identity.account._id)])
        try await audit.record(identity.actor, "fragment.delete", kind: "fragment", id: id, name: fragment.key)
    }

    /// The templates (current versions) and fragments that include `key`.
    public func usage(of key: String, for identity: Identity) async throws -> [(kind: String, id: String, name: String)] {
        var found: [(String, String, String)] = []
        for template in try await list(for: identity) {
            let sources = template.content.parts(for: template.channel).map(\.source)
            if sources.contains(where: { TemplateFragment.includes(in: $0).contains(key) }) { found.append(("template", template._id, template.name)) }
        }
        for fragment in try await fragmentList(for: identity) where fragment.key != key && TemplateFragment.includes(in: fragment.source).contains(key) {
            found.append(("fragment", fragment._id, fragment.key))
        }
        return found
    }

    // MARK: Data sources

    public func sourceList(for identity: Identity) async throws -> [DataSource] {
        try identity.require(.templates, .view)
        return try await sources.find(["accountId": .string(identity.account._id)], options: FindOptions(sort: ["name": 1])).collect()
    }

    public func source(_ id: String, for identity: Identity) async throws -> DataSource {
        try identity.require(.templates, .view)
        guard let filter = SecurityStore.byId(id, in: identity.account._id), let source = try await sources.findOne(filter) else {
            throw ObjectNotFound("data_source", id)
        }
        return source
    }

    public func createSource(_ source: DataSource, by identity: Identity) async throws -> DataSource {
        try identity.require(.templates, .create)
        var source = source
        source._id = ObjectId().hex
        source.accountId = identity.account._id
        guard DataSource.isValidName(source.name) else {
            throw InvalidInput("name", "invalid_setting", "a name is a letter, then letters, digits and _ (not profile, message or campaign)")
        }
        guard (50...30_000).contains(source.timeoutMilliseconds) else { throw InvalidInput("timeoutMilliseconds", "invalid_setting", "from 50 to 30,000 ms") }
        guard (0...86_400).contains(source.cacheSeconds) else { throw InvalidInput("cacheSeconds", "invalid_setting", "from 0 to 86,400 s") }
        guard TemplateData.json(text: source.fallback) != nil else { throw InvalidInput("fallback", "invalid_setting", "the fallback is JSON (or empty for null)") }
        switch source.kind {
        case .sql:
            guard source.url.hasPrefix("postgresql://") || source.url.hasPrefix("postgres://") || source.url.hasPrefix("mysql://") || source.url.hasPrefix("mariadb://") else {
                throw InvalidInput("url", "invalid_setting", "use postgresql://user:password@host:port/database or mysql://…")
            }
            guard !source.query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw InvalidInput("query", "invalid_setting", "give the SELECT to run") }
        case .http:
            guard source.url.hasPrefix("http://") || source.url.hasPrefix("https://") else { throw InvalidInput("url", "invalid_setting", "an http:// or https:// URL (a template)") }
        }
        if case .failure(let errors) = Result(catching: { () throws(ContentErrors) in try DataLookup(sources: [source]) }) {
            throw InvalidInput("url", "template_invalid", errors.description)
        }
        do {
            try await sources.insertOne(source)
        } catch let error as MongoError where error.code == .duplicateKey {
            throw InvalidInput("name", "name_taken", source.name)
        }
        try await audit.record(identity.actor, "data_source.create", kind: "data_source", id: source._id, name: source.name,
                               changes: [.init(field: "kind", before: nil, after: source.kind.rawValue)])
        return source
    }

    public func deleteSource(_ id: String, by identity: Identity) async throws {
        try identity.require(.templates, .delete)
        let source = try await source(id, for: identity)
        _ = try await sources.deleteOne(["_id": .string(id), "accountId": .string(identity.account._id)])
        try await audit.record(identity.actor, "data_source.delete", kind: "data_source", id: id, name: source.name)
    }
}
