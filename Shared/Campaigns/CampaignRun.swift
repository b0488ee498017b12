import Foundation

/// One run of a campaign (settings store, `campaign_runs`): a one-off has one; a regular
/// campaign one per scheduled time. It freezes the audience once, and records how far the
/// expansion got, so that a job-server that stops mid-way goes on where it was.
public struct CampaignRun: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        case queued, sending, paused, cancelled
        /// A/B: the test share is out; waiting for the winner.
        case testing
        /// Waiting for a limit (per hour, per day) to allow more.
        case waiting
        case sent, failed
    }

    /// `<campaign id>-<number>`.
    public var _id: String
    public var accountId: String
    public var campaignId: String
    public var number: Int
    public var status: Status
    /// The template version pinned for the run.
    public var templateVersion: Int?
    /// The segment's frozen copy for this run.
    public var frozenSegmentId: String?
    /// Audience size, and what became of it so far.
    public var total: Int
    public var queued: Int
    /// Profiles not sent to, by reason (`unsubscribed`, `stop list`, `frequency cap`, `no address`…).
    public var skipped: [String: Int]
    /// Recipients whose message could not be made (render or data source failures).
    public var failed: Int
    /// The last profile id expanded (members are taken in profile id order).
    public var checkpoint: String
    /// A/B: the phase being expanded (`test` or `winner`).
    public var phase: String
    /// When a waiting run may go on.
    public var resumeAt: Date?
    public var message: String
    public var scheduledFor: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var updatedAt: Date

    public init(campaign: Campaign, number: Int, scheduledFor: Date) {
        _id = "\(campaign._id)-\(number)"
        accountId = campaign.accountId
        campaignId = campaign._id
        self.number = number
        status = .queued
        total = 0
        queued = 0
        skipped = [:]
        failed = 0
        checkpoint = ""
        phase = campaign.test == nil ? "all" : "test"
        message = ""
        self.scheduledFor = scheduledFor
        updatedAt = Date()
    }

    public static let collectionName = "campaign_runs"
}

/// One message sent to one recipient (customer-data store, `sends`): made by job-server or the
/// transactional API, updated by every outcome and action. Its id is the message id that the
/// tracking links, the VERP return path and every `message.*` event carry.
public struct SendRecord: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        /// Written, not yet confirmed on the bus.
        case pending
        case queued, delivered, deferred, bounced, failed, expired
    }

    /// 24 hexadecimal digits: the same for the same run and profile (so a restarted run never
    /// makes a second message for a recipient).
    public var _id: String
    public var accountId: String
    public var databaseId: String
    public var profileId: String
    public var campaignId: String
    public var runId: String
    public var variant: String
    public var channel: String
    public var address: String
    public var resource: String
    public var status: Status
    public var attempts: Int
    public var lastReply: String
    public var createdAt: Date
    public var updatedAt: Date
    public var deliveredAt: Date?
    public var openedAt: Date?
    public var clickedAt: Date?
    /// An observer's copy: not counted in the campaign's statistics.
    public var observer: Bool

    public init(id: String, accountId: String, databaseId: String, profileId: String, campaignId: String, runId: String, variant: String,
                address: String, resource: String, observer: Bool = false, at: Date = Date()) {
        _id = id
        self.accountId = accountId
        self.databaseId = databaseId
        self.profileId = profileId
        self.campaignId = campaignId
        self.runId = runId
        self.variant = variant
        channel = "email"
        self.address = address
        self.resource = resource
        status = .pending
        attempts = 0
        lastReply = ""
        createdAt = at
        updatedAt = at
        self.observer = observer
    }

    public static let collectionName = "sends"
}
