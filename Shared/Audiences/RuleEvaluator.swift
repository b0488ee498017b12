import BSON
import CustomerData
import Foundation

/// A checked rule evaluated for one profile in process (triggers and scenarios: "does this
/// profile match now?"), with the store's semantics: a list matches when an element does, a
/// missing field equals nothing and differs from everything, values of different types never
/// compare, texts compare by their UTF-8 bytes.
public enum RuleEvaluator {
    public static func matches(_ rule: CheckedRule, _ profile: Profile) -> Bool {
        switch rule {
        case .all(let rules): return rules.allSatisfy { matches($0, profile) }
        case .any(let rules): return rules.contains { matches($0, profile) }
        case .not(let rule): return !matches(rule, profile)
        case .compare(let path, let comparison, let value):
            let stored = lookup(path, profile)
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
        case .oneOf(let path, let values, let negated):
            let hit = elements(lookup(path, profile)).contains { element in values.contains { equal(element, $0) } }
            return negated ? !hit : hit
        case .pattern(let path, let pattern, let caseInsensitive):
            guard let regex = cachedRegex(pattern, caseInsensitive) else { return false }
            return elements(lookup(path, profile)).contains { element in
                guard case .string(let text) = element else { return false }
                return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
            }
        case .empty(let path, let negated):
            let value = lookup(path, profile)
            let empty = switch value {
            case nil, .null?: true
            case .string(let s)?: s.isEmpty
            case .array(let a)?: a.isEmpty
            default: false
            }
            return negated ? !empty : empty
        case .subscription(let channel, let status, let resource):
            return profile.subscriptions.contains {
                $0.channel.rawValue == channel && (status == nil || $0.status.rawValue == status) && (resource == nil || $0.resource == resource)
            }
        }
    }

    static func lookup(_ path: String, _ profile: Profile) -> BSONValue? {
        guard path.hasPrefix("fields.") else { return nil }
        return profile.fields[String(path.dropFirst(7))]
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
