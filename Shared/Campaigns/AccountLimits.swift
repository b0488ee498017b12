import Foundation

/// An account's own sending limits (settings store, `sending_limits`, one per account; Settings →
/// Delivery): messages per hour and per day across all its campaigns, and a ramp-up schedule for
/// a new IP or domain — a daily allowance that starts small and grows by a factor each day while
/// bounces and complaints stay under their thresholds, holds when the allowance was not used, and
/// falls back when they go over.
public struct AccountLimits: Codable, Sendable, Equatable {
    /// The account id.
    public var _id: String
    public var perHour: Int?
    public var perDay: Int?
    public var rampUp: RampUp?
    /// The IP pool the account's messages go out from when a campaign names none.
    public var ipPool: String?
    public var updatedAt: Date

    public init(accountId: String, perHour: Int? = nil, perDay: Int? = nil, rampUp: RampUp? = nil, ipPool: String? = nil, updatedAt: Date = Date()) {
        _id = accountId
        self.perHour = perHour
        self.perDay = perDay
        self.rampUp = rampUp
        self.ipPool = ipPool
        self.updatedAt = updatedAt
    }

    public static let collectionName = "sending_limits"

    /// Today's most messages per day: the lower of `perDay` and the ramp-up's allowance.
    public var dailyAllowance: Int? {
        switch (perDay, rampUp?.allowance) {
        case (let a?, let b?): min(a, b)
        case (let a?, nil): a
        case (nil, let b?): b
        case (nil, nil): nil
        }
    }
}

/// A warm-up schedule and where it stands.
public struct RampUp: Codable, Sendable, Equatable {
    public var startPerDay: Int
    /// Each good day multiplies the allowance by this (1.1…10).
    public var factor: Double
    /// The allowance stops growing here (no limit when nil).
    public var maxPerDay: Int?
    /// Share of the day's messages that bounced, above which the allowance falls back.
    public var bounceThreshold: Double
    /// Share of the day's messages that drew a complaint, above which the allowance falls back.
    public var complaintThreshold: Double
    /// Today's allowance and the day (UTC, `yyyy-MM-dd`) it was set for.
    public var allowance: Int
    public var day: String
    public var history: [Step]

    /// One day's decision.
    public struct Step: Codable, Sendable, Equatable {
        public enum Decision: String, Codable, Sendable { case start, grow, hold, fallBack = "fall-back" }
        public var day: String
        public var sent: Int
        public var bounced: Int
        public var complained: Int
        public var decision: Decision
        /// The allowance decided for the next day.
        public var allowance: Int
    }

    public init(startPerDay: Int, factor: Double = 1.5, maxPerDay: Int? = nil, bounceThreshold: Double = 0.05, complaintThreshold: Double = 0.001, day: String) {
        self.startPerDay = startPerDay
        self.factor = factor
        self.maxPerDay = maxPerDay
        self.bounceThreshold = bounceThreshold
        self.complaintThreshold = complaintThreshold
        allowance = startPerDay
        self.day = day
        history = [Step(day: day, sent: 0, bounced: 0, complained: 0, decision: .start, allowance: startPerDay)]
    }

    /// The next day's allowance from how the previous day went: fall back (divide by the factor,
    /// not below the start) when bounces or complaints passed their thresholds; grow (up to the
    /// maximum) when at least half the allowance was used cleanly; hold otherwise.
    public mutating func advance(to today: String, sent: Int, bounced: Int, complained: Int) {
        guard today != day else { return }
        let decision: Step.Decision
        if sent > 0, Double(bounced) / Double(sent) > bounceThreshold || Double(complained) / Double(sent) > complaintThreshold {
            decision = .fallBack
            allowance = max(startPerDay, Int(Double(allowance) / factor))
        } else if sent * 2 >= allowance {
            decision = .grow
            allowance = min(maxPerDay ?? Int.max, Int((Double(allowance) * factor).rounded()))
        } else {
            decision = .hold
        }
        history.append(Step(day: day, sent: sent, bounced: bounced, complained: complained, decision: decision, allowance: allowance))
        if history.count > 60 { history.removeFirst(history.count - 60) }
        day = today
    }

    var problems: [(field: String, message: String)] {
        var problems: [(String, String)] = []
        if startPerDay < 1 { problems.append(("rampUp.startPerDay", "at least 1")) }
        if factor < 1.1 || factor > 10 { problems.append(("rampUp.factor", "between 1.1 and 10")) }
        if let max = maxPerDay, max < startPerDay { problems.append(("rampUp.maxPerDay", "at least the start")) }
        if !(0...1).contains(bounceThreshold) { problems.append(("rampUp.bounceThreshold", "a share between 0 and 1 (0.05 is 5%)")) }
        if !(0...1).contains(complaintThreshold) { problems.append(("rampUp.complaintThreshold", "a share between 0 and 1 (0.001 is 0.1%)")) }
        return problems
    }

    /// `yyyy-MM-dd` of `date` in UTC.
    public static func dayString(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }
}

extension AccountLimits {
    /// What is wrong, field by field; empty when it can be saved.
    public var problems: [(field: String, message: String)] {
        var problems: [(String, String)] = []
        if let h = perHour, h < 1 { problems.append(("perHour", "at least 1, or empty for no limit")) }
        if let d = perDay, d < 1 { problems.append(("perDay", "at least 1, or empty for no limit")) }
        return problems + (rampUp?.problems ?? [])
    }
}
