import AMQP
import BSON
import Content
import Contracts
import CustomerData
import Foundation
import Mongo
import Templates
import Tracking

/// One triggered campaign's message to one profile, rendered with the call's (or the event's)
/// data and published at once on the transactional queue, through the send log: control's API
/// and profile card, and job-server's event triggers, send through it alike.
public struct TriggeredSend: Sendable {
    let store: CampaignStore
    let library: TemplateLibrary
    let amqp: AMQPConnection
    let signer: TrackingSigner
    let trackerURL: String

    public init(store: CampaignStore, library: TemplateLibrary, amqp: AMQPConnection, signer: TrackingSigner, trackerURL: String) {
        self.store = store
        self.library = library
        self.amqp = amqp
        self.signer = signer
        self.trackerURL = trackerURL
    }

    /// Why a triggered message could not be made; `field` is the request's part at fault.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public let field: String
        public let message: String
        public var description: String { "\(field): \(message)" }
    }

    /// Sends `campaign`'s message to `profile` (to its active e-mail subscription of the campaign's
    /// resource, or the one with `email`). `messageId` fixes the message's id: the same id is
    /// never sent twice (an event delivered again sends nothing). Returns the message id.
    public func send(_ campaign: Campaign, to profile: Profile, email: String? = nil, data: [String: TemplateValue], messageId: String = ObjectId().hex,
                     runId: String? = nil) async throws -> String {
        let campaign = try await store.withAccountPool(campaign)
        let subscriptions = profile.subscriptions.filter { $0.channel == .email && (campaign.resource.isEmpty || $0.resource == campaign.resource) }
        guard let subscription = subscriptions.first(where: { $0.status == .active }) ?? subscriptions.first(where: { email != nil && $0.address.lowercased() == email!.lowercased() }),
              subscription.status == .active else {
            throw Refusal(field: "email", message: "the profile has no active e-mail subscription\(campaign.resource.isEmpty ? "" : " to \(campaign.resource)")")
        }
        if let entry = try await StopList(settings: store.campaigns.database).blocking(subscription.address, channel: .email, account: campaign.accountId) {
            throw Refusal(field: "email", message: "\(subscription.address) is on the stop list (\(entry.reason))")
        }
        guard let (_, content, _) = try await library.content(of: campaign.templateId, version: nil, account: campaign.accountId) else {
            throw Refusal(field: "templateId", message: "its template no longer exists")
        }
        let message = try await library.compose(content, channel: .email, account: campaign.accountId)
        let builder = try await EmailBuilder.forContent(content, account: campaign.accountId, store: store, library: library, signer: signer, trackerURL: trackerURL)
        let delivery: Herald_Delivery_V1_EmailDelivery
        do {
            delivery = try await builder.delivery(for: .init(profile: profile, address: subscription.address, resource: campaign.resource, messageId: messageId, variant: ""),
                                                  message: message, content: content, campaign: campaign, transactional: true, data: data)
        } catch {
            throw Refusal(field: "data", message: error.description)
        }
        let record = SendRecord(id: messageId, accountId: campaign.accountId, databaseId: profile.databaseId, profileId: profile._id, campaignId: campaign._id,
                                runId: runId ?? "\(campaign._id)-api", variant: "", address: subscription.address, resource: campaign.resource)
        _ = try await store.publishOnce([(record, delivery, nil)], amqp: amqp, transactional: true)
        return messageId
    }
}
