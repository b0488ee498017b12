import CustomerData
import Foundation
import Logging
import Mongo
import Synchronization
import Templates
import Content

/// Triggered campaigns that an event starts: when job-server's activity writer records an event
/// of the kind an active triggered campaign waits for (`triggerEvent`, e.g. `order.paid` from the
/// events API or the site), that profile gets the campaign's message at once, with the event's
/// properties as template data (`{{ order.number }}`) — as if the event had called
/// `POST /api/v1/campaigns/{id}/send`. The message id is fixed by the campaign and the event, so
/// an event delivered twice sends one message.
public final class CampaignTriggers: Sendable {
    let store: CampaignStore
    let sender: TriggeredSend
    let profiles: ProfileStore
    let logger: Logger
    /// Active triggered campaigns by account, database and event kind, read again every few seconds.
    private let cache = Mutex<(read: ContinuousClock.Instant?, campaigns: [String: [Campaign]])>((nil, [:]))

    public init(store: CampaignStore, sender: TriggeredSend, profiles: ProfileStore, logger: Logger) {
        self.store = store
        self.sender = sender
        self.profiles = profiles
        self.logger = logger
    }

    static func key(account: String, database: String, kind: String) -> String { "\(account)\u{0}\(database)\u{0}\(kind)" }

    func waiting(now: ContinuousClock.Instant = .now) async throws -> [String: [Campaign]] {
        if let (read, campaigns) = cache.withLock({ c in c.read.map { ($0, c.campaigns) } }), now - read < .seconds(5) { return campaigns }
        var campaigns: [String: [Campaign]] = [:]
        for try await campaign in store.campaigns.find(["kind": "triggered", "status": "active", "triggerEvent": ["$exists": true]]) {
            guard let kind = campaign.triggerEvent, !kind.isEmpty else { continue }
            campaigns[Self.key(account: campaign.accountId, database: campaign.databaseId, kind: kind), default: []].append(campaign)
        }
        cache.withLock { $0 = (now, campaigns) }
        return campaigns
    }

    /// The activity writer's listener: sends each matching campaign's message for each event.
    public func handle(_ written: [(eventId: String, activity: ActivityEvent)]) async {
        let campaigns: [String: [Campaign]]
        do {
            campaigns = try await waiting()
        } catch {
            logger.error("event-triggered campaigns could not be read; these events send nothing", metadata: ["error": "\(error)"])
            return
        }
        guard !campaigns.isEmpty else { return }
        for (eventId, event) in written {
            guard let matching = campaigns[Self.key(account: event.accountId, database: event.databaseId, kind: event.kind)] else { continue }
            do {
                guard let profile = try await profiles.profiles.findOne(["_id": .string(event.profileId), "databaseId": .string(event.databaseId)]) else { continue }
                guard case .object(let data) = TemplateData.value(.document(event.properties)) else { continue }
                for campaign in matching {
                    let messageId = EmailBuilder.messageId(run: "\(campaign._id)-event-\(eventId)", profile: profile._id)
                    do {
                        _ = try await sender.send(campaign, to: profile, data: data, messageId: messageId, runId: "\(campaign._id)-event")
                    } catch let refusal as TriggeredSend.Refusal {
                        logger.notice("an event-triggered message was not sent", metadata: [
                            "campaign": "\(campaign._id)", "event": "\(eventId)", "profile": "\(profile._id)", "reason": "\(refusal)"])
                    }
                }
            } catch {
                logger.error("an event-triggered message could not be sent", metadata: ["event": "\(eventId)", "error": "\(error)"])
            }
        }
    }
}
