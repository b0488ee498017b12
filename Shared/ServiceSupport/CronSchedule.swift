import Foundation

/// A cron-like schedule: five fields — minute, hour, day of month, month, day of week — each `*`,
/// a number, a range `a-b`, a step `*/n` or `a-b/n`, or a list of those (`1,15,30-40/5`); months
/// and days may be named (`JAN`, `MON`; Sunday is 0 or 7). `@hourly`, `@daily`, `@weekly`,
/// `@monthly` and `@yearly` stand for the usual expressions. As in cron, when both the day of
/// month and the day of week are restricted, a day matching either one runs.
///
/// Times are read in a time zone (the account's), so `0 9 * * MON-FRI` is 9:00 there, summer
/// and winter.
public struct CronSchedule: Sendable, Equatable, CustomStringConvertible {
    public let expression: String
    let minutes: [Int]
    let hours: [Int]
    let days: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>
    let daysRestricted: Bool
    let weekdaysRestricted: Bool

    /// Why an expression cannot be read: the field and what is wrong with it.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public let field: String
        public let message: String
        public var description: String { "\(field): \(message)" }
    }

    static let shortcuts = ["@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
                            "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"]
    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    public init(_ expression: String) throws(Problem) {
        let trimmed = expression.trimmingCharacters(in: .whitespaces)
        self.expression = trimmed
        let text = Self.shortcuts[trimmed.lowercased()] ?? trimmed
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw Problem(field: "expression", message: "five fields are needed — minute hour day-of-month month day-of-week, e.g. '0 9 * * MON-FRI' — or @daily, @weekly, @monthly")
        }
        minutes = try Self.values(fields[0], field: "minute", range: 0...59).sorted()
        hours = try Self.values(fields[1], field: "hour", range: 0...23).sorted()
        days = try Self.values(fields[2], field: "day of month", range: 1...31)
        months = try Self.values(fields[3], field: "month", range: 1...12, names: Self.monthNames, firstName: 1)
        weekdays = Set(try Self.values(fields[4], field: "day of week", range: 0...7, names: Self.dayNames, firstName: 0).map { $0 % 7 })
        daysRestricted = fields[2] != "*"
        weekdaysRestricted = fields[4] != "*"
    }

    public var description: String { expression }

    /// The first time strictly after `date` (to the minute) that the schedule names, read in
    /// `timeZone`; nil when none comes within eight years (`0 0 31 2 *`).
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let startOfDay = calendar.startOfDay(for: date)
        for offset in 0..<(366 * 8) {
            guard let day = calendar.date(byAdding: .day, value: offset, to: startOfDay) else { return nil }
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            guard let year = parts.year, let month = parts.month, let dayOfMonth = parts.day, let weekday = parts.weekday,
                  months.contains(month), matches(day: dayOfMonth, weekday: weekday - 1) else { continue }
            for hour in hours {
                for minute in minutes {
                    guard let candidate = calendar.date(from: DateComponents(year: year, month: month, day: dayOfMonth, hour: hour, minute: minute)),
                          calendar.component(.hour, from: candidate) == hour else { continue }  // a time skipped by a clock change
                    if candidate > date { return candidate }
                }
            }
        }
        return nil
    }

    private func matches(day: Int, weekday: Int) -> Bool {
        switch (daysRestricted, weekdaysRestricted) {
        case (true, true): days.contains(day) || weekdays.contains(weekday)
        case (true, false): days.contains(day)
        case (false, true): weekdays.contains(weekday)
        case (false, false): true
        }
    }

    private static func values(_ text: String, field: String, range: ClosedRange<Int>, names: [String] = [], firstName: Int = 0) throws(Problem) -> Set<Int> {
        var result = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2, !pieces[0].isEmpty else { throw Problem(field: field, message: "'\(part)' is not a value, range or step") }
            var step = 1
            if pieces.count == 2 {
                guard let n = Int(pieces[1]), n > 0 else { throw Problem(field: field, message: "the step in '\(part)' must be a positive number") }
                step = n
            }
            let bounds: ClosedRange<Int>
            if pieces[0] == "*" {
                bounds = range
            } else {
                let ends = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
                guard (1...2).contains(ends.count) else { throw Problem(field: field, message: "'\(part)' is not a value, range or step") }
                let low = try value(String(ends[0]), field: field, range: range, names: names, firstName: firstName)
                let high = ends.count == 2 ? try value(String(ends[1]), field: field, range: range, names: names, firstName: firstName) : (pieces.count == 2 ? range.upperBound : low)
                guard low <= high else { throw Problem(field: field, message: "the range '\(part)' runs backwards") }
                bounds = low...high
            }
            for v in stride(from: bounds.lowerBound, through: bounds.upperBound, by: step) { result.insert(v) }
        }
        return result
    }

    private static func value(_ text: String, field: String, range: ClosedRange<Int>, names: [String], firstName: Int) throws(Problem) -> Int {
        if let index = names.firstIndex(of: text.uppercased()) { return index + firstName }
        guard let n = Int(text), range.contains(n) else {
            let named = names.isEmpty ? "" : " or a name (\(names.first!)…\(names.last!))"
            throw Problem(field: field, message: "'\(text)' is not \(range.lowerBound)–\(range.upperBound)\(named)")
        }
        return n
    }
}
