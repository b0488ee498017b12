import AMQP
import Audiences
import BSON
import Campaigns
import Content
import Contracts
import CustomerData
import Foundation
import ServiceSupport
import Mongo
import Security
import Templates
import Tracking

/// Campaigns in the panel and the API: made and edited as drafts, launched now, at a time or on a
/// schedule, paused, resumed and cancelled while they send, reported on; triggered campaigns
/// send one message per API call at once. Every change is in the audit log.
public struct CampaignService: Sendable {
    public let store: CampaignStore
    let templates: TemplateService
    let segments: SegmentService
    let customers: CustomerDataService
    let amqp: AMQPConnection?
    let audit: AuditLog
    let signer: TrackingSigner?
    let trackerURL: String

    public init(settings: MongoDatabase, customersStore: MongoDatabase, templates: TemplateService, segments: SegmentService, customers: CustomerDataService,
                amqp: AMQPConnection?, audit: AuditLog, trackingSecret: String, trackerURL: String) {
        store = CampaignStore(settings: settings, customers: customersStore)
        self.templates = templates
        self.segments = segments
        self.customers = customers
        self.amqp = amqp
        self.audit = audit
        signer = trackingSecret.utf8.count >= 32 ? TrackingSigner(secret: trackingSecret) : nil
        self.trackerURL = trackerURL
    }

    public func prepare() async throws { try await store.prepare() }

    /// What a campaign is made or changed from (the API's body, the panel's form).
    public struct Draft: Codable, Sendable {
        public var name: String
        public var kind: Campaign.Kind?
        public var databaseId: String
        public var segmentId: String?
        public var resource: String?
        public var templateId: String
        public var variants: [CampaignVariant]?
        public var test: SplitTest?
        public var schedule: CampaignSchedule?
        public var observers: [String]?
        public var limits: SendingLimits?
        public var policies: SendingPolicies?
        public var ipPool: String?
        /// Triggered: the activity kind whose events send the message (`order.paid`).
        public var triggerEvent: String?
        /// MVT: the options of each varied element; every combination becomes a variant
        /// (`S2·F1`: the second subject with the first sender name), reported on its own.
        public var mvt: MultivariateTest?

        public init(name: String, kind: Campaign.Kind?, databaseId: String, segmentId: String?, templateId: String) {
            self.name = name
            self.kind = kind
            self.databaseId = databaseId
            self.segmentId = segmentId
            self.templateId = templateId
        }
    }

    public struct MultivariateTest: Codable, Sendable {
        public var subjects: [String]?
        public var fromNames: [String]?
        public var templateIds: [String]?

        /// Every combination of the options, as variants.
        public var variants: [CampaignVariant] {
            let subjects = (subjects ?? []).filter { !$0.isEmpty }, names = (fromNames ?? []).filter { !$0.isEmpty }, templates = (templateIds ?? []).filter { !$0.isEmpty }
            var result: [CampaignVariant] = []
            for (si, subject) in (subjects.isEmpty ? [nil] : subjects.map(Optional.some)).enumerated() {
                for (fi, name) in (names.isEmpty ? [nil] : names.map(Optional.some)).enumerated() {
                    for (ti, template) in (templates.isEmpty ? [nil] : templates.map(Optional.some)).enumerated() {
                        let id = [subject.map { _ in "S\(si + 1)" }, name.map { _ in "F\(fi + 1)" }, template.map { _ in "T\(ti + 1)" }].compactMap { $0 }.joined(separator: "·")
                        result.append(CampaignVariant(id: id, subject: subject, fromName: name, templateId: template))
                    }
                }
            }
            return result
        }
    }

    // MARK: Reading

    public func list(for identity: Identity) async throws -> [Campaign] {
        try identity.require(.campaigns, .view)
        return try await store.campaigns.find(["accountId": .string(identity.account._id)], options: FindOptions(sort: ["updatedAt": -1])).collect()
    }

    public func campaign(_ id: String, for identity: Identity) async throws -> Campaign {
        try identity.require(.campaigns, .view)
        guard let campaign = try await store.campaigns.findOne(["_id": .string(id), "accountId": .string(identity.account._id)]) else {
            throw ObjectNotFound("campaign", id)
        }
        return campaign
    }

    /// One run's progress and results.
    public struct RunReport: Encodable, Sendable {
        public let run: CampaignRun
        public let statuses: [String: Int]
        public let variants: [CampaignResults.Variant]
    }

    public func report(_ id: String, for identity: Identity) async throws -> (Campaign, [RunReport]) {
        let campaign = try await campaign(id, for: identity)
        let runs = try await store.runs.find(["campaignId": .string(campaign._id)], options: FindOptions(sort: ["number": -1], limit: 20)).collect()
        let results = CampaignResults(store: store)
        var reports: [RunReport] = []
        for run in runs {
            reports.append(RunReport(run: run, statuses: try await results.statuses(of: run._id),
                                     variants: try await results.variants(of: run._id, conversionEvent: campaign.test?.conversionEvent)))
        }
        return (campaign, reports)
    }

    /// Sendings planned and made in `[from, to)`: each run's time, and scheduled campaigns' next times.
    public struct CalendarEntry: Encodable, Sendable {
        public let campaignId: String
        public let name: String
        public let kind: String
        public let status: String
        public let at: Date
        public let planned: Bool
    }

    public func calendar(from: Date, to: Date, for identity: Identity) async throws -> [CalendarEntry] {
        let campaigns = try await list(for: identity)
        var entries: [CalendarEntry] = []
        let names = Dictionary(campaigns.map { ($0._id, $0) }, uniquingKeysWith: { a, _ in a })
        for run in try await store.runs.find(["accountId": .string(identity.account._id)]).collect() {
            let at = run.startedAt ?? run.scheduledFor
            guard at >= from, at < to, let campaign = names[run.campaignId] else { continue }
            entries.append(CalendarEntry(campaignId: campaign._id, name: campaign.name, kind: campaign.kind.rawValue, status: run.status.rawValue, at: at, planned: false))
        }
        for campaign in campaigns where campaign.status == .scheduled {
            var next = campaign.schedule.nextRunAt ?? campaign.schedule.at
            while let at = next, at < to {
                if at >= from { entries.append(CalendarEntry(campaignId: campaign._id, name: campaign.name, kind: campaign.kind.rawValue, status: "scheduled", at: at, planned: true)) }
                next = campaign.kind == .regular ? campaign.schedule.next(after: at) : nil
            }
        }
        return entries.sorted { $0.at < $1.at }
    }

    // MARK: Changing

    public func create(_ draft: Draft, by identity: Identity) async throws -> Campaign {
        try identity.require(.campaigns, .create)
        var campaign = Campaign(accountId: identity.account._id, name: "", kind: draft.kind ?? .oneOff, databaseId: "", segmentId: nil, templateId: "", by: identity.user.login)
        try await apply(draft, to: &campaign, for: identity)
        try await store.campaigns.insertOne(campaign)
        try await audit.record(identity.actor, "campaign.create", kind: "campaign", id: campaign._id, name: campaign.name,
                               changes: [.init(field: "kind", before: nil, after: campaign.kind.rawValue)])
        return campaign
    }

    public func update(_ id: String, _ draft: Draft, by identity: Identity) async throws -> Campaign {
        try identity.require(.campaigns, .edit)
        let before = try await campaign(id, for: identity)
        guard [.draft, .scheduled, .paused, .active, .sent, .cancelled, .failed].contains(before.status) else {
            throw InvalidInput("status", "campaign_state", "edit", before.status.rawValue)
        }
        var after = before
        try await apply(draft, to: &after, for: identity)
        after.updatedAt = Date()
        after.updatedBy = identity.user.login
        _ = try await store.campaigns.replaceOne(filter: ["_id": .string(id)], replacement: after)
        try await audit.record(identity.actor, "campaign.update", kind: "campaign", id: id, name: after.name,
                               changes: before.name == after.name ? [] : [.init(field: "name", before: before.name, after: after.name)])
        return after
    }

    public func delete(_ id: String, by identity: Identity) async throws {
        try identity.require(.campaigns, .delete)
        let campaign = try await campaign(id, for: identity)
        guard ![.sending, .testing, .paused].contains(campaign.status) else { throw InvalidInput("status", "campaign_state", "delete", campaign.status.rawValue) }
        _ = try await store.campaigns.deleteOne(["_id": .string(id)])
        try await audit.record(identity.actor, "campaign.delete", kind: "campaign", id: id, name: campaign.name)
    }

    /// Checks a draft against the account's databases, segments, templates and the rules of each
    /// field, and copies it into `campaign`.
    func apply(_ draft: Draft, to campaign: inout Campaign, for identity: Identity) async throws {
        let name = draft.name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 200 else { throw InvalidInput("name", "name_required") }
        let kind = draft.kind ?? campaign.kind
        let database = try await customers.database(draft.databaseId, for: identity)
        if kind != .triggered {
            guard let segmentId = draft.segmentId, !segmentId.isEmpty else { throw InvalidInput("segmentId", "campaign_invalid", "choose the segment it goes to") }
            let (segment, segmentDatabase) = try await segments.segment(segmentId, for: identity)
            guard segmentDatabase._id == database._id else { throw InvalidInput("segmentId", "campaign_invalid", "the segment '\(segment.name)' is of another database") }
        }
        let template = try await templates.template(draft.templateId, for: identity)
        guard template.channel == .email else { throw InvalidInput("templateId", "campaign_invalid", "only e-mail templates can be sent yet; '\(template.name)' is for \(template.channel.rawValue)") }
        guard template.content.fromAddress.contains("@") else {
            throw InvalidInput("templateId", "campaign_invalid", "the template '\(template.name)' has no sender address")
        }
        let variants = draft.mvt?.variants ?? draft.variants ?? []
        if !variants.isEmpty {
            guard variants.count >= 2, variants.count <= 26 else { throw InvalidInput("variants", "campaign_invalid", "an A/B/n test has 2 to 26 variants") }
            guard Set(variants.map(\.id)).count == variants.count, variants.allSatisfy({ !$0.id.isEmpty && $0.id.count <= 60 }) else {
                throw InvalidInput("variants", "campaign_invalid", "each variant needs its own short name")
            }
            for variant in variants where !(variant.templateId ?? "").isEmpty {
                _ = try await templates.template(variant.templateId!, for: identity)
            }
        }
        if let test = draft.test {
            guard !variants.isEmpty else { throw InvalidInput("test", "campaign_invalid", "a test needs variants") }
            guard test.share > 0, test.share <= 1 else { throw InvalidInput("test.share", "campaign_invalid", "the test share is above 0 and at most 1") }
            guard (0...10_080).contains(test.waitMinutes) else { throw InvalidInput("test.waitMinutes", "campaign_invalid", "wait between 0 and 10080 minutes") }
            if test.metric == .conversions {
                let event = (test.conversionEvent ?? "").trimmingCharacters(in: .whitespaces)
                guard ActivityEvent.isValidKind(event) else {
                    throw InvalidInput("test.conversionEvent", "campaign_invalid", "the activity that counts as a conversion, such as order.paid or goal.reached (lower-case letters, digits, '_' and '.')")
                }
            }
        }
        let schedule = draft.schedule ?? campaign.schedule
        guard TimeZone(identifier: schedule.timeZone) != nil else { throw InvalidInput("schedule.timeZone", "campaign_invalid", "'\(schedule.timeZone)' is not a time zone (Europe/Moscow)") }
        if kind == .regular, schedule.repeats == nil || (schedule.at == nil && schedule.repeats != .cron) {
            throw InvalidInput("schedule", "campaign_invalid", "a regular campaign needs its first time and daily or weekly, or a cron-like schedule")
        }
        if schedule.repeats == .cron {
            do {
                _ = try CronSchedule(schedule.cron ?? "")
            } catch {
                throw InvalidInput("schedule.cron", "campaign_invalid", "\(error) (minute hour day-of-month month day-of-week, e.g. 0 9 * * MON-FRI)")
            }
        }
        let observers = (draft.observers ?? []).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        for observer in observers {
            guard case .success = FieldValueParser.parse(.text(observer), as: FieldDefinition(key: "observers", title: "observers", type: .email)) else {
                throw InvalidInput("observers", "campaign_invalid", "'\(observer)' is not an e-mail address")
            }
        }
        let limits = draft.limits ?? SendingLimits()
        if let h = limits.perHour, h < 1 { throw InvalidInput("limits.perHour", "campaign_invalid", "at least 1, or empty for no limit") }
        if let d = limits.perDay, d < 1 { throw InvalidInput("limits.perDay", "campaign_invalid", "at least 1, or empty for no limit") }
        let policies = draft.policies ?? SendingPolicies()
        for hour in [policies.quietFrom, policies.quietTo].compactMap({ $0 }) where !(0...23).contains(hour) {
            throw InvalidInput("policies", "campaign_invalid", "quiet hours are 0 to 23")
        }
        if (policies.quietFrom == nil) != (policies.quietTo == nil) { throw InvalidInput("policies", "campaign_invalid", "give both ends of the quiet hours") }
        if let cap = policies.frequencyCap, cap < 1 || policies.frequencyDays < 1 { throw InvalidInput("policies.frequencyCap", "campaign_invalid", "at least 1 message in at least 1 day") }
        campaign.name = name
        campaign.kind = kind
        campaign.databaseId = database._id
        campaign.segmentId = kind == .triggered ? nil : draft.segmentId
        campaign.resource = (draft.resource ?? "").trimmingCharacters(in: .whitespaces)
        campaign.templateId = template._id
        campaign.variants = variants
        campaign.test = draft.test
        campaign.schedule = schedule
        campaign.observers = observers
        campaign.limits = limits
        campaign.policies = policies
        campaign.ipPool = (draft.ipPool ?? "").trimmingCharacters(in: .whitespaces)
        let trigger = (draft.triggerEvent ?? "").trimmingCharacters(in: .whitespaces)
        if !trigger.isEmpty {
            guard kind == .triggered else { throw InvalidInput("triggerEvent", "campaign_invalid", "only a triggered campaign is sent by an event") }
            guard ActivityEvent.isValidKind(trigger) else {
                throw InvalidInput("triggerEvent", "campaign_invalid", "an event kind such as order.paid: lower-case letters, digits, '_' and '.'")
            }
        }
        campaign.triggerEvent = trigger.isEmpty ? nil : trigger
    }

    // MARK: Sending

    /// Sends now (`at` nil or past), at a time (one-off), on its schedule (regular), or starts
    /// taking API calls (triggered).
    public func launch(_ id: String, at: Date?, by identity: Identity) async throws -> Campaign {
        try identity.require(.campaigns, .send)
        var campaign = try await campaign(id, for: identity)
        guard [.draft, .scheduled, .sent, .cancelled, .failed].contains(campaign.status) || (campaign.kind == .triggered && campaign.status != .active) else {
            throw InvalidInput("status", "campaign_state", "launch", campaign.status.rawValue)
        }
        guard let amqp else { throw InvalidInput("status", "import_no_broker") }
        switch campaign.kind {
        case .triggered:
            campaign.status = .active
        case .regular:
            if let at { campaign.schedule.at = at }
            // A cron-like schedule's first run is its first time from now (and not before `at`).
            campaign.schedule.nextRunAt = campaign.schedule.repeats == .cron ? campaign.schedule.next(after: Date()) : nil
            campaign.status = .scheduled
        case .oneOff:
            if let at, at > Date() {
                campaign.schedule.at = at
                campaign.status = .scheduled
            } else {
                campaign.schedule.at = Date()
                campaign.status = .sending
            }
        }
        campaign.updatedAt = Date()
        if campaign.kind == .oneOff, campaign.status == .sending {
            let number = try await store.runs.countDocuments(["campaignId": .string(campaign._id)]) + 1
            let run = CampaignRun(campaign: campaign, number: number, scheduledFor: Date())
            try await store.save(run)
            campaign.lastRunId = run._id
            _ = try await store.campaigns.replaceOne(filter: ["_id": .string(id)], replacement: campaign)
            try await CampaignLaunch.publish(run, amqp: amqp)
        } else {
            _ = try await store.campaigns.replaceOne(filter: ["_id": .string(id)], replacement: campaign)
        }
        try await audit.record(identity.actor, "campaign.launch", kind: "campaign", id: id, name: campaign.name,
                               changes: [.init(field: "status", before: nil, after: campaign.status.rawValue)] +
                                   (campaign.schedule.at.map { [.init(field: "at", before: nil, after: $0.formatted(.iso8601))] } ?? []))
        return campaign
    }

    /// Pauses a sending: job-server stops between batches; mta-sender holds what is queued.
    public func pause(_ id: String, by identity: Identity) async throws -> Campaign {
        try await change(id, action: "pause", from: [.sending, .testing, .scheduled, .active], to: .paused, run: .paused, by: identity)
    }

    /// Goes on from where the sending was.
    public func resume(_ id: String, by identity: Identity) async throws -> Campaign {
        try identity.require(.campaigns, .send)
        guard let amqp else { throw InvalidInput("status", "import_no_broker") }
        let campaign = try await change(id, action: "resume", from: [.paused], to: .sending, run: .queued, by: identity)
        if let runId = campaign.lastRunId, let run = try await store.runs.findOne(["_id": .string(runId)]), run.status == .queued {
            try await CampaignLaunch.publish(run, amqp: amqp)
        } else {
            // Paused before its first run: back to its schedule or state.
            var restored = campaign
            restored.status = campaign.kind == .triggered ? .active : .scheduled
            _ = try await store.campaigns.replaceOne(filter: ["_id": .string(id)], replacement: restored)
            return restored
        }
        return campaign
    }

    /// Stops a sending for good: nothing more is made, and mta-sender drops what is still queued.
    public func cancel(_ id: String, by identity: Identity) async throws -> Campaign {
        try await change(id, action: "cancel", from: [.sending, .testing, .scheduled, .paused, .active], to: .cancelled, run: .cancelled, by: identity)
    }

    private func change(_ id: String, action: String, from: Set<Campaign.Status>, to: Campaign.Status, run runStatus: CampaignRun.Status,
                        by identity: Identity) async throws -> Campaign {
        try identity.require(.campaigns, .send)
        var campaign = try await campaign(id, for: identity)
        guard from.contains(campaign.status) else { throw InvalidInput("status", "campaign_state", action, campaign.status.rawValue) }
        let before = campaign.status
        campaign.status = to
        campaign.updatedAt = Date()
        _ = try await store.campaigns.replaceOne(filter: ["_id": .string(id)], replacement: campaign)
        if let runId = campaign.lastRunId {
            let open: [BSONValue] = ["queued", "sending", "waiting", "testing", "paused"]
            _ = try await store.runs.updateOne(filter: ["$and": [["_id": .string(runId)], ["status": ["$in": .array(open)]]]],
                                               update: ["$set": ["status": .string(runStatus.rawValue)]])
        }
        try await audit.record(identity.actor, "campaign.\(action)", kind: "campaign", id: id, name: campaign.name,
                               changes: [.init(field: "status", before: before.rawValue, after: to.rawValue)])
        return campaign
    }

    /// A triggered campaign's message to one profile (by id or e-mail), with `data` as extra
    /// variables, published at once on the transactional queue. Returns the message id.
    public func sendTriggered(_ id: String, profileId: String?, email: String?, data: [String: TemplateValue], by identity: Identity) async throws -> String {
        try identity.require(.campaigns, .send)
        let campaign = try await campaign(id, for: identity)
        guard campaign.kind == .triggered else { throw InvalidInput("kind", "campaign_invalid", "only a triggered campaign is sent by API calls") }
        guard campaign.status == .active else { throw InvalidInput("status", "campaign_state", "send", campaign.status.rawValue) }
        guard let amqp else { throw InvalidInput("status", "import_no_broker") }
        guard let signer else {
            throw InvalidInput("status", "campaign_invalid", "control has no tracking.secret: messages need it to sign their links and return paths")
        }
        let database = try await customers.database(campaign.databaseId, for: identity)
        var profile: Profile?
        if let profileId, !profileId.isEmpty {
            profile = try await customers.profiles.profile(profileId, in: database)
        } else if let email, !email.isEmpty {
            profile = try await customers.profiles.list(database, search: email, limit: 1).first
        }
        guard let profile else { throw InvalidInput(profileId == nil ? "email" : "profileId", "unknown_profile") }
        do {
            return try await TriggeredSend(store: store, library: templates.library, amqp: amqp, signer: signer, trackerURL: trackerURL)
                .send(campaign, to: profile, email: email, data: data)
        } catch let refusal as TriggeredSend.Refusal {
            throw InvalidInput(refusal.field, "campaign_invalid", refusal.message)
        }
    }
}
