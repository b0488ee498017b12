import BSON
import CustomerData
import Foundation

/// Checks a ``SegmentRule`` against a database's schema and turns it into a ``CheckedRule``:
/// unknown fields, operators that do not fit a field's type and malformed values are reported at
/// the rule that is wrong.
public enum RuleChecker {
    public static func check(_ rule: SegmentRule, in database: ProfileDatabase, now: Date = Date()) -> Result<CheckedRule, RuleErrors> {
        var errors: [RuleError] = []
        let checked = check(rule, path: "rule", database: database, now: now, errors: &errors)
        return errors.isEmpty ? .success(checked) : .failure(RuleErrors(errors: errors))
    }

    static let textTypes: Set<FieldType> = [.string, .email, .phone, .enumeration]
    static let orderedTypes: Set<FieldType> = [.integer, .decimal, .date, .dateTime, .string, .email, .phone, .enumeration]

    static func allowed(_ type: FieldType) -> Set<SegmentRule.Operator> {
        switch type {
        case .string, .email, .phone, .enumeration: [.eq, .ne, .in, .notIn, .contains, .startsWith, .regex, .gt, .gte, .lt, .lte, .between, .empty, .notEmpty]
        case .integer, .decimal: [.eq, .ne, .in, .notIn, .gt, .gte, .lt, .lte, .between, .empty, .notEmpty]
        case .boolean: [.eq, .ne, .empty, .notEmpty]
        case .date: [.eq, .ne, .gt, .gte, .lt, .lte, .between, .empty, .notEmpty, .inNextDays, .withinLastDays]
        case .dateTime: [.gt, .gte, .lt, .lte, .between, .empty, .notEmpty, .withinLastDays]
        case .stringList: [.contains, .eq, .ne, .empty, .notEmpty]
        case .table: [.empty, .notEmpty]
        }
    }

    static func check(_ rule: SegmentRule, path: String, database: ProfileDatabase, now: Date, errors: inout [RuleError]) -> CheckedRule {
        func fail(_ message: String) -> CheckedRule {
            errors.append(RuleError(path: path, message: message))
            return .all([])
        }
        switch rule {
        case .all(let rules):
            return .all(rules.enumerated().map { check($1, path: "\(path).all[\($0)]", database: database, now: now, errors: &errors) })
        case .any(let rules):
            return .any(rules.enumerated().map { check($1, path: "\(path).any[\($0)]", database: database, now: now, errors: &errors) })
        case .not(let inner):
            return .not(check(inner, path: "\(path).not", database: database, now: now, errors: &errors))
        case .subscription(let channel, let status, let resource):
            return .subscription(channel: channel.rawValue, status: status?.rawValue, resource: resource)
        case .field(let key, let op, let input):
            guard let field = database.field(key) else {
                return fail("the database has no field '\(key)'; its fields are \(database.fields.map(\.key).joined(separator: ", "))")
            }
            guard allowed(field.type).contains(op) else {
                return fail("'\(op.rawValue)' does not fit a \(field.type.rawValue) field; use one of \(allowed(field.type).map(\.rawValue).sorted().joined(separator: ", "))")
            }
            let fieldPath = "fields.\(key)"
            var scalar = field
            scalar.required = false
            if field.type == .stringList { scalar = FieldDefinition(key: key, title: key, type: .string) }
            func value(_ input: FieldInput) -> BSONValue? {
                switch FieldValueParser.parse(input, as: scalar) {
                case .success(.null): errors.append(RuleError(path: path + ".value", message: "a value is required")); return nil
                case .success(let value): return value
                case .failure(let failure): errors.append(RuleError(path: path + ".value", message: failure.message)); return nil
                }
            }
            func days(_ input: FieldInput) -> Int? {
                guard case .number(let n) = input, n.rounded() == n, (0...3650).contains(n) else {
                    errors.append(RuleError(path: path + ".value", message: "give a whole number of days from 0 to 3650"))
                    return nil
                }
                return Int(n)
            }
            switch op {
            case .eq, .ne, .gt, .gte, .lt, .lte:
                guard let v = value(input) else { return .all([]) }
                return .compare(path: fieldPath, CheckedRule.Comparison(rawValue: op.rawValue)!, v)
            case .contains where field.type == .stringList:
                guard let v = value(input) else { return .all([]) }
                return .compare(path: fieldPath, .eq, v)
            case .in, .notIn:
                guard case .list(let items) = input, !items.isEmpty else { return fail("give a non-empty list of values") }
                let values = items.compactMap(value)
                return .oneOf(path: fieldPath, values, negated: op == .notIn)
            case .contains, .startsWith:
                guard case .text(let text) = input, !text.isEmpty else { return fail("give the text to look for") }
                let literal = NSRegularExpression.escapedPattern(for: field.type == .email ? text.lowercased() : text)
                return .pattern(path: fieldPath, op == .startsWith ? "^" + literal : literal, caseInsensitive: true)
            case .regex:
                guard case .text(let pattern) = input, !pattern.isEmpty, (try? NSRegularExpression(pattern: pattern)) != nil else {
                    return fail("give a valid regular expression")
                }
                return .pattern(path: fieldPath, pattern, caseInsensitive: false)
            case .between:
                guard case .list(let bounds) = input, bounds.count == 2 else { return fail("give two values, the lowest and the highest: [a, b]") }
                let low = value(bounds[0]), high = value(bounds[1])
                guard let low, let high else { return .all([]) }  // each bad bound is already reported
                return .all([.compare(path: fieldPath, .gte, low), .compare(path: fieldPath, .lte, high)])
            case .empty, .notEmpty:
                return .empty(path: fieldPath, negated: op == .notEmpty)
            case .inNextDays:
                guard let n = days(input) else { return .all([]) }
                return .pattern(path: fieldPath, "-(" + monthDays(from: now, count: n + 1).joined(separator: "|") + ")$", caseInsensitive: false)
            case .withinLastDays:
                guard let n = days(input) else { return .all([]) }
                let since = now.addingTimeInterval(-Double(n) * 86400)
                if field.type == .date {
                    var calendar = Calendar(identifier: .gregorian)
                    calendar.timeZone = TimeZone(identifier: "UTC")!
                    let c = calendar.dateComponents([.year, .month, .day], from: since)
                    return .compare(path: fieldPath, .gte, .string(String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)))
                }
                return .compare(path: fieldPath, .gte, .date(since))
            }
        }
    }

    /// `MM-DD` of `count` days from `date` (UTC), for anniversaries.
    static func monthDays(from date: Date, count: Int) -> [String] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var seen: [String] = []
        for offset in 0..<min(count, 366) {
            let day = calendar.date(byAdding: .day, value: offset, to: date)!
            let c = calendar.dateComponents([.month, .day], from: day)
            let text = String(format: "%02d-%02d", c.month!, c.day!)
            if !seen.contains(text) { seen.append(text) }
        }
        return seen
    }
}
