import Foundation
import ServiceSupport

/// A sending (settings store, `campaigns`): to whom (a segment of a profile database, with the
/// subscriptions of one resource), what (a template, or several variants of it), from which
/// sending domain, when (now, at a time, on a schedule, or on each API call), and within which
/// limits and policies.
public struct Campaign: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// Sent once: now or at a time.
        case oneOff = "one-off"
        /// Sent on a schedule; each run freezes the segment anew.
        case regular
        /// Sent to one recipient per API call or event, with the call's data, at once.
        case triggered
    }

    public enum Status: String, Codable, Sendable, CaseIterable {
        case draft
        /// One-off with a time, or regular: waiting for its time.
        case scheduled
        case sending
        case paused
        /// An A/B test's first part is out; the winner goes to the rest after the wait.
        case testing
        case sent
        case cancelled
        /// Triggered: takes API calls.
        case active
        case failed
    }

    public var _id: String
    public var accountId: String
    public var name: String
    public var kind: Kind
    public var status: Status
    public var databaseId: String
    /// The audience (one-off and regular).
    public var segmentId: String?
    /// Only subscriptions of this resource (newsletter) get it; any active e-mail subscription when empty.
    public var resource: String
    /// The template, and the version a sending pins when it starts.
    public var templateId: String
    /// A/B/n or MVT: two or more variants; empty for a plain sending.
    public var variants: [CampaignVariant]
    public var test: SplitTest?
    public var schedule: CampaignSchedule
    /// Seed addresses that get a copy of every sending, for monitoring.
    public var observers: [String]
    public var limits: SendingLimits
    public var policies: SendingPolicies
    /// The outgoing IP pool; the default route when empty.
    public var ipPool: String
    /// Triggered: an activity kind (`order.paid`) whose every event sends this campaign's message
    /// to its profile, with the event's properties as data; nil when only API calls send it.
    public var triggerEvent: String?
    /// When the last (or current) run started and how it went.
    public var lastRunId: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var updatedBy: String

    public init(accountId: String, name: String, kind: Kind, databaseId: String, segmentId: String?, templateId: String, by login: String) {
        _id = UUID().uuidString.lowercased()
        self.accountId = accountId
        self.name = name
        self.kind = kind
        status = .draft
        self.databaseId = databaseId
        self.segmentId = segmentId
        resource = ""
        self.templateId = templateId
        variants = []
        schedule = CampaignSchedule()
        observers = []
        limits = SendingLimits()
        policies = SendingPolicies()
        ipPool = ""
        createdAt = Date()
        updatedAt = createdAt
        updatedBy = login
    }

    public static let collectionName = "campaigns"
}

/// One variant of an A/B/n or MVT sending: overrides of the campaign's content.
public struct CampaignVariant: Codable, Sendable, Equatable {
    /// `A`, `B`, … (MVT: the combination, `subject 2 · sender 1`).
    public var id: String
    public var subject: String?
    public var fromName: String?
    /// Another template's content instead of the campaign's.
    public var templateId: String?

    public init(id: String, subject: String? = nil, fromName: String? = nil, templateId: String? = nil) {
        self.id = id
        self.subject = subject
        self.fromName = fromName
        self.templateId = templateId
    }
}

/// How an A/B/n or MVT test is decided: the variants go to `share` of the audience, split
/// evenly; after `waitMinutes` the variant with the best `metric` goes to everyone else.
public struct SplitTest: Codable, Sendable, Equatable {
    public enum Metric: String, Codable, Sendable, CaseIterable { case opens, clicks, conversions }
    /// 0.01…1: with 1 the whole audience is split and no winner is sent.
    public var share: Double
    public var metric: Metric
    public var waitMinutes: Int
    /// Set when decided.
    public var winner: String?
    public var decidedAt: Date?

    /// With the `conversions` metric: the activity kind that counts as a conversion (`order.paid`,
    /// `goal.reached`) when the recipient's profile records it after the message was sent.
    public var conversionEvent: String?

    public init(share: Double = 0.2, metric: Metric = .opens, waitMinutes: Int = 240, conversionEvent: String? = nil) {
        self.share = share
        self.metric = metric
        self.conversionEvent = conversionEvent
        self.waitMinutes = waitMinutes
    }
}

/// When a campaign goes out.
public struct CampaignSchedule: Codable, Sendable, Equatable {
    public enum Repeat: String, Codable, Sendable, CaseIterable { case daily, weekly, cron }
    /// One-off: the time (now when nil). Regular: the first run's time (with `cron`: none before it).
    public var at: Date?
    /// Regular: every day or every week at `at`'s time of day (in `timeZone`), or as `cron` says.
    public var repeats: Repeat?
    /// With `repeats` `cron`: a cron-like expression read in `timeZone` (`0 9 * * MON-FRI`).
    public var cron: String?
    /// The account's time zone for schedules (IANA name).
    public var timeZone: String
    /// Deliver at `at`'s time of day in each recipient's own time zone (profile field `timezone`).
    public var recipientTimeZone: Bool
    /// Regular: when the next run is due.
    public var nextRunAt: Date?

    public init(at: Date? = nil, repeats: Repeat? = nil, cron: String? = nil, timeZone: String = "UTC", recipientTimeZone: Bool = false) {
        self.at = at
        self.repeats = repeats
        self.cron = cron
        self.timeZone = timeZone
        self.recipientTimeZone = recipientTimeZone
    }

    enum CodingKeys: String, CodingKey { case at, repeats, cron, timeZone, recipientTimeZone, nextRunAt }

    /// Reads a stored or posted schedule; the time zone is UTC and per-recipient time off when not given.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        at = try c.decodeIfPresent(Date.self, forKey: .at)
        repeats = try c.decodeIfPresent(Repeat.self, forKey: .repeats)
        cron = try c.decodeIfPresent(String.self, forKey: .cron)
        timeZone = try c.decodeIfPresent(String.self, forKey: .timeZone) ?? "UTC"
        recipientTimeZone = try c.decodeIfPresent(Bool.self, forKey: .recipientTimeZone) ?? false
        nextRunAt = try c.decodeIfPresent(Date.self, forKey: .nextRunAt)
    }

    /// The first run time of a schedule strictly after `date`.
    public func next(after date: Date) -> Date? {
        if repeats == .cron {
            guard let cron, let schedule = try? CronSchedule(cron) else { return nil }
            let from = at.map { max(date, $0.addingTimeInterval(-1)) } ?? date
            return schedule.next(after: from, in: TimeZone(identifier: timeZone) ?? .gmt)
        }
        guard let at else { return nil }
        guard let repeats else { return at > date ? at : nil }
        if at > date { return at }
        let step: TimeInterval = repeats == .daily ? 86_400 : 7 * 86_400
        let periods = floor(date.timeIntervalSince(at) / step) + 1
        return at.addingTimeInterval(periods * step)
    }
}

/// At most so many messages per hour and per day (none when nil).
public struct SendingLimits: Codable, Sendable, Equatable {
    public var perHour: Int?
    public var perDay: Int?
    public init(perHour: Int? = nil, perDay: Int? = nil) {
        self.perHour = perHour
        self.perDay = perDay
    }
}

/// Rules applied to each recipient when the message is made.
public struct SendingPolicies: Codable, Sendable, Equatable {
    /// No message is delivered between these hours of the recipient's (or the account's) day:
    /// e.g. 22 and 8. Messages made in the quiet hours wait until they end.
    public var quietFrom: Int?
    public var quietTo: Int?
    /// At most `frequencyCap` messages to a profile in `frequencyDays` days, across campaigns.
    public var frequencyCap: Int?
    public var frequencyDays: Int
    public init(quietFrom: Int? = nil, quietTo: Int? = nil, frequencyCap: Int? = nil, frequencyDays: Int = 7) {
        self.quietFrom = quietFrom
        self.quietTo = quietTo
        self.frequencyCap = frequencyCap
        self.frequencyDays = frequencyDays
    }
}
