import BSON
import CustomerData
import Foundation

/// A checked rule evaluated for one profile in process (triggers and scenarios: "does this
/// profile match now?"), with the store's semantics: a list matches when an element does, a
/// missing field equals nothing and differs from everything, values of different types never
/// compare, texts compare by their UTF-8 bytes.
public enum RuleEvaluator {
    /// Whether `profile` matches; `facts` carries what the rule needs beyond the profile
    /// (activity, fixed segments, relations).
    public static func matches(_ rule: CheckedRule, _ profile: Profile, facts: ProfileFacts = ProfileFacts()) -> Bool {
        evaluate(rule, record: profile.fields, profile: profile, facts: facts)
    }

    /// Whether a record (a table row, an event's properties) matches conditions on its values.
    public static func matches(_ rule: CheckedRule, record: BSONDocument) -> Bool {
        evaluate(rule, record: record, profile: nil, facts: nil)
    }

    static func evaluate(_ rule: CheckedRule, record: BSONDocument, profile: Profile?, facts: ProfileFacts?) -> Bool {
        switch rule {
        case .all(let rules): return rules.allSatisfy { evaluate($0, record: record, profile: profile, facts: facts) }
        case .any(let rules): return rules.contains { evaluate($0, record: record, profile: profile, facts: facts) }
        case .not(let rule): return !evaluate(rule, record: record, profile: profile, facts: facts)
        case .compare(let path, let comparison, let value):
            return compare(record.value(forKey: path), comparison, value)
        case .oneOf(let path, let values, let negated):
            let hit = elements(record.value(forKey: path)).contains { element in values.contains { equal(element, $0) } }
            return negated ? !hit : hit
        case .pattern(let path, let pattern, let caseInsensitive):
            guard let regex = cachedRegex(pattern, caseInsensitive) else { return false }
            return elements(record.value(forKey: path)).contains { element in
                guard case .string(let text) = element else { return false }
                return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
            }
        case .empty(let path, let negated):
            let empty = switch record.value(forKey: path) {
            case nil, .null?: true
            case .string(let s)?: s.isEmpty
            case .array(let a)?: a.isEmpty
            default: false
            }
            return negated ? !empty : empty
        case .subscription(let channel, let status, let resource):
            return profile?.subscriptions.contains {
                $0.channel.rawValue == channel && (status == nil || $0.status.rawValue == status) && (resource == nil || $0.resource == resource)
            } ?? false
        case .activity(let query):
            let n = facts?.activity.reduce(0) { $0 + (query.matches($1) ? 1 : 0) } ?? 0
            return compare(.int32(Int32(n)), query.comparison, .double(query.count))
        case .table(let query):
            guard let profile else { return false }
            let rows = elements(profile.fields.value(forKey: query.field)).compactMap { row -> BSONDocument? in
                guard case .document(let row) = row, matches(query.rows, record: row) else { return nil }
                return row
            }
            guard !rows.isEmpty else { return query.ofNoRows.map { compare($0, query.comparison, query.value) } ?? false }
            return compare(aggregate(query, rows), query.comparison, query.value)
        case .member(let segmentId):
            return facts?.segments.contains(segmentId) ?? false
        case .related(let kind, let direction, let inner):
            return facts?.relations.contains { related in
                related.kind == kind && (direction == .any || related.outgoing == (direction == .outgoing))
                    && matches(inner, related.profile, facts: related.facts)
            } ?? false
        case .profiles(let ids, let negated):
            return (profile.map { ids.contains($0._id) } ?? false) != negated
        }
    }

    /// A stored value compared with a rule's value (for a list: any element; `ne`: none equal).
    static func compare(_ stored: BSONValue?, _ comparison: CheckedRule.Comparison, _ value: BSONValue) -> Bool {
        if comparison == .ne { return !elements(stored).contains { equal($0, value) } }
        return elements(stored).contains { element in
            switch comparison {
            case .eq: equal(element, value)
            case .gt: order(element, value).map { $0 > 0 } ?? false
            case .gte: order(element, value).map { $0 >= 0 } ?? false
            case .lt: order(element, value).map { $0 < 0 } ?? false
            case .lte: order(element, value).map { $0 <= 0 } ?? false
            case .ne: false
            }
        }
    }

    /// The aggregate of rows (each has the column: the checker adds that condition), as the
    /// store's `$group` computes it.
    static func aggregate(_ query: TableQuery, _ rows: [BSONDocument]) -> BSONValue {
        let values = query.column.map { column in rows.compactMap { $0.value(forKey: column) } } ?? []
        switch query.aggregate {
        case .count: return .int32(Int32(rows.count))
        case .sum: return .double(values.compactMap(number).reduce(0, +))
        case .avg:
            let numbers = values.compactMap(number)
            return numbers.isEmpty ? .null : .double(numbers.reduce(0, +) / Double(numbers.count))
        case .min, .max:
            guard var best = values.first else { return .null }
            for value in values.dropFirst() {
                if let o = order(value, best), query.aggregate == .min ? o < 0 : o > 0 { best = value }
            }
            return best
        }
    }

    /// The values a condition looks at: a list's elements, else the value itself.
    static func elements(_ value: BSONValue?) -> [BSONValue] {
        switch value {
        case nil: []
        case .array(let items)?: items
        case let value?: [value]
        }
    }

    static func equal(_ a: BSONValue, _ b: BSONValue) -> Bool {
        if let x = number(a), let y = number(b) { return x == y }
        return a == b
    }

    static func number(_ value: BSONValue) -> Double? {
        switch value {
        case .int32(let n): Double(n)
        case .int64(let n): Double(n)
        case .double(let n): n
        default: nil
        }
    }

    /// -1, 0 or 1 for values of one kind; nil across kinds.
    static func order(_ a: BSONValue, _ b: BSONValue) -> Int? {
        if let x = number(a), let y = number(b) { return x < y ? -1 : (x > y ? 1 : 0) }
        switch (a, b) {
        case (.string(let x), .string(let y)):
            let p = Array(x.utf8), q = Array(y.utf8)
            return p.lexicographicallyPrecedes(q) ? -1 : (p == q ? 0 : 1)
        case (.datetime(let x), .datetime(let y)): return x < y ? -1 : (x > y ? 1 : 0)
        case (.bool(let x), .bool(let y)): return x == y ? 0 : (!x ? -1 : 1)
        default: return nil
        }
    }

    nonisolated(unsafe) static var regexCache: [String: NSRegularExpression] = [:]
    static let regexLock = NSLock()

    static func cachedRegex(_ pattern: String, _ caseInsensitive: Bool) -> NSRegularExpression? {
        let key = (caseInsensitive ? "i:" : "s:") + pattern
        regexLock.lock()
        defer { regexLock.unlock() }
        if let regex = regexCache[key] { return regex }
        guard let regex = try? NSRegularExpression(pattern: pattern, options: caseInsensitive ? [.caseInsensitive] : []) else { return nil }
        regexCache[key] = regex
        return regex
    }
}
