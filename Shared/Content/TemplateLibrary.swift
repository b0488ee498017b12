import CustomerData
import Foundation
import Mongo

/// An account's templates, versions, fragments and data sources in the settings store, and the
/// one way content is compiled for sending: a block design's HTML made first, fragments resolved.
/// The panel's template editor and the senders (job-server, the transactional API) share it.
public struct TemplateLibrary: Sendable {
    public let templates: MongoCollection<MessageTemplate>
    public let versions: MongoCollection<TemplateVersion>
    public let fragments: MongoCollection<TemplateFragment>
    public let sources: MongoCollection<DataSource>

    public init(settings: MongoDatabase) {
        templates = settings.collection("message_templates", of: MessageTemplate.self)
        versions = settings.collection("template_versions", of: TemplateVersion.self)
        fragments = settings.collection("template_fragments", of: TemplateFragment.self)
        sources = settings.collection("template_sources", of: DataSource.self)
    }

    /// The content compiled with the account's fragments (the block design's HTML made first).
    public func compose(_ content: MessageContent, channel: Subscription.Channel, account: String) async throws -> ComposedMessage {
        let fragments = Dictionary(try await self.fragments.find(["accountId": .string(account)]).collect().map { ($0.key, $0.source) }, uniquingKeysWith: { first, _ in first })
        return try ComposedMessage(Self.prepared(content, channel: channel), channel: channel, fragments: { fragments[$0] })
    }

    /// The content as it is sent: an email designed with blocks gets its HTML from the design.
    public static func prepared(_ content: MessageContent, channel: Subscription.Channel) -> MessageContent {
        var content = content
        if channel == .email, let design = content.design { content.html = EmailHTML.make(design, subject: content.subject, preheader: content.preheader) }
        if channel != .email { content.design = nil }
        return content
    }

    /// The content of a template's version `number` (the current one when nil), and that number.
    public func content(of templateId: String, version number: Int?, account: String) async throws -> (MessageTemplate, MessageContent, Int)? {
        guard let template = try await templates.findOne(["_id": .string(templateId), "accountId": .string(account)]) else { return nil }
        guard let number, number != template.version else { return (template, template.content, template.version) }
        guard let version = try await versions.findOne(["templateId": .string(templateId), "number": .int64(Int64(number))]) else { return nil }
        return (template, version.content, number)
    }

    /// The account's data sources, ready to be looked up.
    public func lookup(account: String) async throws -> DataLookup {
        try DataLookup(sources: try await sources.find(["accountId": .string(account)]).collect())
    }
}
