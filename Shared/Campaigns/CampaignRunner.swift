import AMQP
import Audiences
import BSON
import Content
import Contracts
import CustomerData
import Foundation
import Logging
import Mongo
import ServiceSupport
import SwiftProtobuf
import Tracking

/// job-server's campaign expansion: freezes a run's audience once, then walks it in profile id
/// order, batch by batch — skip rules, stop list, frequency cap, A/B split — renders each
/// recipient's email, writes the send log and publishes the deliveries with confirms, and records
/// its checkpoint. A run that is paused, cancelled, waits for a limit, or whose job-server stops,
/// goes on from its checkpoint without losing or doubling a recipient: a recipient's message id
/// is fixed by run and profile, and the send log says which were already published.
public struct CampaignRunner: Sendable {
    let store: CampaignStore
    let library: TemplateLibrary
    let audiences: AudienceQuery
    let profiles: ProfileStore
    let databases: MongoCollection<ProfileDatabase>
    let segments: MongoCollection<Segment>
    let stopList: StopList
    let amqp: AMQPConnection
    let signer: TrackingSigner
    let trackerURL: String
    let logger: Logger
    let batchSize: Int

    public init(settings: MongoDatabase, customers: MongoDatabase, amqp: AMQPConnection, signer: TrackingSigner, trackerURL: String, logger: Logger, batchSize: Int = 500) {
        store = CampaignStore(settings: settings, customers: customers)
        library = TemplateLibrary(settings: settings)
        audiences = AudienceQuery(database: customers)
        profiles = ProfileStore(database: customers)
        databases = settings.collection("profile_databases", of: ProfileDatabase.self)
        segments = settings.collection(Segment.collectionName, of: Segment.self)
        stopList = StopList(settings: settings)
        self.amqp = amqp
        self.signer = signer
        self.trackerURL = trackerURL
        self.logger = logger
        self.batchSize = batchSize
    }

    /// Why a run cannot go on at all.
    struct Stop: Error, CustomStringConvertible {
        let description: String
    }

    /// Expands the run `runId` from where it is.
    public func run(runId: String) async throws {
        guard var run = try await store.runs.findOne(["_id": .string(runId)]) else { return }
        guard [.queued, .sending, .waiting].contains(run.status) else { return }
        guard var campaign = try await store.campaigns.findOne(["_id": .string(run.campaignId)]) else { return }
        campaign = try await store.withAccountPool(campaign)
        do {
            try await expand(&run, campaign: &campaign)
        } catch let stop as Stop {
            run.status = .failed
            run.message = stop.description
            run.finishedAt = Date()
            try await store.save(run)
            try await store.setStatus(campaign, .failed)
            logger.error("campaign run failed", metadata: ["campaign.id": "\(campaign._id)", "run.id": "\(run._id)", "error": "\(stop)"])
        }
    }

    private func expand(_ run: inout CampaignRun, campaign: inout Campaign) async throws {
        guard let database = try await databases.findOne(["_id": .string(campaign.databaseId), "accountId": .string(campaign.accountId)]) else {
            throw Stop(description: "its profile database no longer exists")
        }
        // The content, pinned at the first expansion.
        let variants = try await composeVariants(campaign, run: &run)
        let builder = try await builder(for: campaign, content: variants.first!.content)

        // The audience, frozen once per run.
        if run.frozenSegmentId == nil {
            guard let segmentId = campaign.segmentId, let source = try await segments.findOne(["_id": .string(segmentId), "accountId": .string(campaign.accountId)]) else {
                throw Stop(description: "its segment no longer exists")
            }
            let (frozen, count) = try await audiences.frozenCopy(of: source, in: database, segments: segments, sendingId: run._id)
            run.frozenSegmentId = frozen._id
            run.total = count
            run.status = .sending
            run.startedAt = run.startedAt ?? Date()
            try await store.save(run)
            try await store.setStatus(campaign, .sending, lastRun: run._id)
        }
        if run.status == .waiting || run.status == .queued {
            // Taken up again (after a limit's wait, a resume, or a restart): sending, unless paused meanwhile.
            let from = run.status
            run.status = .sending
            run.resumeAt = nil
            run.message = ""
            guard try await store.save(run, ifStatus: [from]) else { return }
        }
        if run.checkpoint.isEmpty && run.queued == 0 && run.phase != "winner" {
            try await sendObserverCopies(campaign, run: run, database: database, variants: variants, builder: builder)
        }

        // The frozen audience's member ids, read once in profile id order (one scan of the store,
        // not one per batch); the checkpoint says where this expansion resumes.
        let audience = try await audiences.members(of: run.frozenSegmentId!, after: run.checkpoint, limit: 0)
        var position = 0
        while true {
            // The panel's pause and cancel take effect between batches.
            if let current = try await store.runs.findOne(["_id": .string(run._id)]), current.status == .paused || current.status == .cancelled {
                return
            }
            let room = try await store.room(for: campaign)
            if let wait = room.wait {
                run.status = .waiting
                run.resumeAt = Date().addingTimeInterval(wait)
                run.message = "waiting for the sending limit"
                try await store.save(run, ifStatus: [.sending])
                return
            }
            // Never more members in a batch than the limits leave room for (each may be one message).
            let ids = Array(audience[position..<min(audience.count, position + min(batchSize, room.left ?? batchSize))])
            guard let last = ids.last else { break }
            position += ids.count
            try await send(batch: ids, run: &run, campaign: campaign, database: database, variants: variants, builder: builder)
            run.checkpoint = last
            try await store.saveProgress(run)
        }
        run.finishedAt = Date()
        run.message = ""
        // Done, unless paused or cancelled meanwhile (a resumed run finds nothing left and ends then).
        if run.phase == "test", let test = campaign.test, test.share < 1 {
            run.status = .testing
            run.resumeAt = Date().addingTimeInterval(Double(test.waitMinutes) * 60)
            if try await store.save(run, ifStatus: [.sending]) { try await store.setStatus(campaign, .testing) }
        } else {
            run.status = .sent
            if try await store.save(run, ifStatus: [.sending]) { try await store.setStatus(campaign, campaign.kind == .regular ? .scheduled : .sent) }
        }
    }

    // MARK: A batch

    private func send(batch ids: [String], run: inout CampaignRun, campaign: Campaign, database: ProfileDatabase, variants: [Variant], builder: EmailBuilder) async throws {
        var found: [String: Profile] = [:]
        for try await profile in profiles.profiles.find(["_id": ["$in": .array(ids.map { .string($0) })], "accountId": .string(campaign.accountId)]) {
            found[profile._id] = profile
        }
        // Whom to send to: an active e-mail subscription (of the campaign's resource).
        var candidates: [(profile: Profile, address: String)] = []
        for id in ids {
            guard let profile = found[id] else {
                run.skipped["deleted", default: 0] += 1
                continue
            }
            let emails = profile.subscriptions.filter { $0.channel == .email && (campaign.resource.isEmpty || $0.resource == campaign.resource) }
            if let active = emails.first(where: { $0.status == .active }) {
                candidates.append((profile, active.address))
            } else if let other = emails.first {
                run.skipped[other.status.rawValue, default: 0] += 1
            } else {
                run.skipped["no subscription", default: 0] += 1
            }
        }
        // The stop list and the frequency cap, one query each for the batch.
        let blocked = try await stopList.blockingEmail(candidates.map { ($0.address, campaign.accountId) })
        let capped = try await store.overCap(candidates.map(\.profile._id), policies: campaign.policies, excludingRun: run._id)
        var messages: [(record: SendRecord, delivery: Herald_Delivery_V1_EmailDelivery, notBefore: Date?)] = []
        for (profile, address) in candidates {
            if blocked[address] != nil {
                run.skipped["stop list", default: 0] += 1
                continue
            }
            if capped.contains(profile._id) {
                run.skipped["frequency cap", default: 0] += 1
                continue
            }
            guard let variant = Self.variant(for: profile._id, campaign: campaign, phase: run.phase, variants: variants) else { continue }
            let messageId = EmailBuilder.messageId(run: run._id, profile: profile._id)
            var record = SendRecord(id: messageId, accountId: campaign.accountId, databaseId: database._id, profileId: profile._id, campaignId: campaign._id,
                                    runId: run._id, variant: variant.id, address: address, resource: campaign.resource)
            do {
                let delivery = try await builder.delivery(for: .init(profile: profile, address: address, resource: campaign.resource, messageId: messageId, variant: variant.id),
                                                          message: variant.message, content: variant.content, campaign: campaign)
                messages.append((record, delivery, Self.notBefore(profile: profile, campaign: campaign)))
            } catch {
                run.failed += 1
                record.status = .failed
                record.lastReply = error.description
                _ = try? await store.sends.insertOne(record)
            }
        }
        let published = try await store.publishOnce(messages, amqp: amqp)
        run.queued += published
    }

    // MARK: Content

    struct Variant: Sendable {
        let id: String
        let content: MessageContent
        let message: ComposedMessage
    }

    /// The campaign's content (or each variant's), compiled; the template version is pinned in the run.
    private func composeVariants(_ campaign: Campaign, run: inout CampaignRun) async throws -> [Variant] {
        guard let (template, content, number) = try await library.content(of: campaign.templateId, version: run.templateVersion, account: campaign.accountId) else {
            throw Stop(description: "its template (or the pinned version) no longer exists")
        }
        guard template.channel == .email else { throw Stop(description: "its template is for \(template.channel.rawValue), and only e-mail has a sender yet") }
        if run.templateVersion == nil {
            run.templateVersion = number
            try await store.save(run)
        }
        var result: [Variant] = []
        for variant in campaign.variants.isEmpty ? [CampaignVariant(id: "")] : campaign.variants {
            var variantContent = content
            if let other = variant.templateId, !other.isEmpty {
                guard let (_, otherContent, _) = try await library.content(of: other, version: nil, account: campaign.accountId) else {
                    throw Stop(description: "the template of variant \(variant.id) no longer exists")
                }
                variantContent = otherContent
            }
            if let subject = variant.subject, !subject.isEmpty { variantContent.subject = subject }
            if let fromName = variant.fromName, !fromName.isEmpty { variantContent.fromName = fromName }
            do {
                let message = try await library.compose(variantContent, channel: .email, account: campaign.accountId)
                result.append(Variant(id: variant.id, content: variantContent, message: message))
            } catch let errors as ContentErrors {
                throw Stop(description: "its content has errors: \(errors.failures.map { "\($0.part) \($0.line):\($0.column) \($0.message)" }.joined(separator: "; "))")
            }
        }
        return result
    }

    private func builder(for campaign: Campaign, content: MessageContent) async throws -> EmailBuilder {
        do {
            return try await EmailBuilder.forContent(content, account: campaign.accountId, store: store, library: library, signer: signer, trackerURL: trackerURL)
        } catch let errors as ContentErrors {
            throw Stop(description: "a data source is invalid: \(errors)")
        }
    }

    // MARK: Rules

    /// Which variant a profile gets in this phase, or nil when it waits for the winner.
    static func variant(for profileId: String, campaign: Campaign, phase: String, variants: [Variant]) -> Variant? {
        guard variants.count > 1 else { return variants.first }
        let hash = EmailBuilder.messageId(run: campaign._id, profile: profileId)
        let fraction = Double(UInt64(hash.prefix(12), radix: 16) ?? 0) / Double(1 << 48)
        let share = campaign.test?.share ?? 1
        if phase == "winner" {
            guard fraction >= share, let winner = campaign.test?.winner else { return nil }
            return variants.first { $0.id == winner } ?? variants.first
        }
        guard fraction < share else { return nil }
        let index = Int(fraction / share * Double(variants.count))
        return variants[min(index, variants.count - 1)]
    }

    /// When the message may be delivered: the schedule's time of day in the recipient's time zone,
    /// and never in the quiet hours. Nil for at once.
    public static func notBefore(profile: Profile, campaign: Campaign, now: Date = Date()) -> Date? {
        var zone = TimeZone(identifier: campaign.schedule.timeZone) ?? .gmt
        if campaign.schedule.recipientTimeZone || campaign.policies.quietFrom != nil,
           case .string(let name)? = profile.fields["timezone"], let own = TimeZone(identifier: name) {
            zone = own
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        var due = now
        if campaign.schedule.recipientTimeZone, let at = campaign.schedule.at {
            var accountCalendar = Calendar(identifier: .gregorian)
            accountCalendar.timeZone = TimeZone(identifier: campaign.schedule.timeZone) ?? .gmt
            let time = accountCalendar.dateComponents([.hour, .minute], from: at)
            if let local = calendar.nextDate(after: now.addingTimeInterval(-60), matching: time, matchingPolicy: .nextTime), local.timeIntervalSince(now) < 86_400 {
                due = max(local, now)
            }
        }
        if let from = campaign.policies.quietFrom, let to = campaign.policies.quietTo, from != to {
            let hour = calendar.component(.hour, from: due)
            let quiet = from < to ? (hour >= from && hour < to) : (hour >= from || hour < to)
            if quiet, let end = calendar.nextDate(after: due, matching: DateComponents(hour: to, minute: 0), matchingPolicy: .nextTime) { due = end }
        }
        return due > now.addingTimeInterval(1) ? due : nil
    }

    /// Copies for the observer addresses, made with the first recipient's data.
    private func sendObserverCopies(_ campaign: Campaign, run: CampaignRun, database: ProfileDatabase, variants: [Variant], builder: EmailBuilder) async throws {
        guard !campaign.observers.isEmpty, let first = try await audiences.members(of: run.frozenSegmentId!, after: "", limit: 1).first,
              let profile = try await profiles.profile(first, in: database) else { return }
        var messages: [(record: SendRecord, delivery: Herald_Delivery_V1_EmailDelivery, notBefore: Date?)] = []
        for address in campaign.observers {
            for variant in variants {
                let id = EmailBuilder.messageId(run: run._id, profile: profile._id, observer: address + variant.id)
                let record = SendRecord(id: id, accountId: campaign.accountId, databaseId: database._id, profileId: profile._id, campaignId: campaign._id,
                                        runId: run._id, variant: variant.id, address: address, resource: campaign.resource, observer: true)
                if let delivery = try? await builder.delivery(for: .init(profile: profile, address: address, resource: campaign.resource, messageId: id, variant: variant.id),
                                                              message: variant.message, content: variant.content, campaign: campaign) {
                    messages.append((record, delivery, nil))
                }
            }
        }
        _ = try await store.publishOnce(messages, amqp: amqp)
    }
}
