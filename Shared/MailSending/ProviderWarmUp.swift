import Foundation

/// How a destination rule warms new source IPs up with its provider (Gmail, Mail.ru, …): from
/// `startedOn`, each source IP may send `startPerDay` messages a day to the destination, `factor`
/// times more each following day, until the allowance reaches `targetPerDay`; then the warm-up is
/// over and only the rule's other limits hold. Days are UTC days. When an IP has used its day's
/// allowance, the destination's messages wait for the next day in the delay queues.
///
/// The account-wide ramp-up (Settings → Delivery → Account limits) limits what campaigns queue;
/// this limits what each IP hands to one provider, whatever queued it.
public struct ProviderWarmUp: Codable, Sendable, Equatable {
    public var startPerDay: Int
    /// The daily growth (1.5 means half as much again each day).
    public var factor: Double
    public var targetPerDay: Int
    /// The warm-up's first day.
    public var startedOn: Date

    public init(startPerDay: Int, factor: Double = 1.5, targetPerDay: Int, startedOn: Date = Date()) {
        self.startPerDay = startPerDay
        self.factor = factor
        self.targetPerDay = targetPerDay
        self.startedOn = Self.startOfDay(startedOn)
    }

    /// Messages each source IP may send to the destination on the day of `date`; nil once the
    /// warm-up is over (the allowance reached the target).
    public func allowance(on date: Date) -> Int? {
        let grown = Double(startPerDay) * pow(factor, Double(day(of: date)))
        guard grown < Double(targetPerDay) else { return nil }
        return Int(grown)
    }

    /// Which day of the warm-up `date` is (0 on the first), for the panel.
    public func day(of date: Date) -> Int {
        max(0, Int((Self.startOfDay(date).timeIntervalSince(startedOn) / 86_400).rounded()))
    }

    /// The settings in a line, for the audit log.
    public var summary: String {
        "\(startPerDay)/day per IP × \(factor) daily up to \(targetPerDay), from \(startedOn.formatted(.iso8601.year().month().day()))"
    }

    /// Seconds from `date` to the start of the next UTC day.
    static func secondsToNextDay(from date: Date) -> Double {
        startOfDay(date).addingTimeInterval(86_400).timeIntervalSince(date)
    }

    static func startOfDay(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
    }

    var problems: [(field: String, message: String)] {
        var problems: [(String, String)] = []
        if startPerDay < 1 { problems.append(("startPerDay", "at least 1")) }
        if !(factor > 1 && factor <= 10) { problems.append(("factor", "more than 1 and at most 10")) }
        if targetPerDay <= startPerDay { problems.append(("targetPerDay", "more than the first day's allowance")) }
        return problems
    }
}
