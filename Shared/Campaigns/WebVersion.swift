import Content
import CustomerData
import Foundation
import Mongo
import Tracking

/// The web version of a sent message (`/w/{token}` on the tracker): found through the send log,
/// rendered again from the content its sending used (the run's pinned template version, the
/// variant's overrides) and the profile as it is now, links tracked, no open pixel.
public struct WebVersion: Sendable {
    let store: CampaignStore
    let library: TemplateLibrary
    let profiles: ProfileStore
    let databases: MongoCollection<ProfileDatabase>
    let tracked: TrackedMessage

    public init(settings: MongoDatabase, customers: MongoDatabase, signer: TrackingSigner, trackerURL: String) {
        store = CampaignStore(settings: settings, customers: customers)
        library = TemplateLibrary(settings: settings)
        profiles = ProfileStore(database: customers)
        databases = settings.collection("profile_databases", of: ProfileDatabase.self)
        tracked = TrackedMessage(signer: signer, base: trackerURL, bounceDomain: "")
    }

    /// The page's HTML for a checked web-version token, or nil when its message, campaign, template
    /// or profile is gone.
    public func html(for token: TrackingToken) async throws -> String? {
        guard token.kind == .webVersion,
              let record = try await store.sends.findOne(["_id": .string(token.messageId)]), record.accountId == token.accountId, record.profileId == token.profileId,
              let campaign = try await store.campaigns.findOne(["_id": .string(record.campaignId)]),
              let database = try await databases.findOne(["_id": .string(record.databaseId), "accountId": .string(record.accountId)]),
              let profile = try await profiles.profile(record.profileId, in: database)
        else { return nil }
        let run = try await store.runs.findOne(["_id": .string(record.runId)])
        let variant = campaign.variants.first { $0.id == record.variant }
        let templateId = variant?.templateId.flatMap { $0.isEmpty ? nil : $0 } ?? campaign.templateId
        guard var (_, content, _) = try await library.content(of: templateId, version: variant?.templateId == nil ? run?.templateVersion : nil, account: campaign.accountId) else {
            return nil
        }
        if let subject = variant?.subject, !subject.isEmpty { content.subject = subject }
        if let fromName = variant?.fromName, !fromName.isEmpty { content.fromName = fromName }
        let message = try await library.compose(content, channel: .email, account: campaign.accountId)
        let builder = EmailBuilder(tracked: tracked, lookup: try? await library.lookup(account: campaign.accountId))
        let (rendered, tracking, _) = try await builder.render(for: .init(profile: profile, address: record.address, resource: record.resource, messageId: record._id,
                                                                          variant: record.variant), message: message, campaign: campaign)
        return tracked.html(rendered["html"], for: tracking, pixel: false)
    }
}
