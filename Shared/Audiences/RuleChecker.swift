import BSON
import CustomerData
import Foundation

/// Checks a ``SegmentRule`` against a database's schema and turns it into a ``CheckedRule``:
/// unknown fields, operators that do not fit a field's type, malformed values, unknown segments
/// and segments that include themselves are reported at the rule that is wrong.
public struct RuleChecker {
    /// Checks `rule`; `segments` are the database's segments by id, for `{"segment": id}` (a
    /// dynamic one's rule is checked and inlined, a fixed one becomes a membership test).
    /// `of` names the segment whose rule this is, so that a rule reaching it again is refused.
    public static func check(_ rule: SegmentRule, in database: ProfileDatabase, segments: [String: Segment] = [:], of segmentId: String? = nil,
                             now: Date = Date()) -> Result<CheckedRule, RuleErrors> {
        var checker = RuleChecker(database: database, segments: segments, now: Date(timeIntervalSince1970: (now.timeIntervalSince1970 * 1000).rounded(.down) / 1000))
        if let segmentId, !segmentId.isEmpty { checker.inlining = [segmentId] }
        let checked = checker.check(rule, path: "rule", scope: database.fields, rowsOf: nil)
        return checker.errors.isEmpty ? .success(checked) : .failure(RuleErrors(errors: checker.errors))
    }

    let database: ProfileDatabase
    let segments: [String: Segment]
    let now: Date
    var errors: [RuleError] = []
    /// The segments being inlined, to refuse a segment that includes itself.
    var inlining: [String] = []

    static let textTypes: Set<FieldType> = [.string, .email, .phone, .enumeration]

    /// The operators that fit a field type.
    public static func allowed(_ type: FieldType) -> Set<SegmentRule.Operator> {
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

    mutating func fail(_ path: String, _ message: String) -> CheckedRule {
        errors.append(RuleError(path: path, message: message))
        return .all([])
    }

    /// `scope` is the fields a field condition may name: the profile's, or a table's columns
    /// (`rowsOf` the table), where only field conditions and groups apply.
    mutating func check(_ rule: SegmentRule, path: String, scope: [FieldDefinition], rowsOf table: String?) -> CheckedRule {
        if let table {
            switch rule {
            case .all, .any, .not, .field: break
            default: return fail(path, "a condition on the rows of '\(table)' names one of its columns: {\"field\", \"op\", \"value\"}, in all/any/not groups")
            }
        }
        switch rule {
        case .all(let rules):
            return .all(rules.enumerated().map { check($1, path: "\(path).all[\($0)]", scope: scope, rowsOf: table) })
        case .any(let rules):
            return .any(rules.enumerated().map { check($1, path: "\(path).any[\($0)]", scope: scope, rowsOf: table) })
        case .not(let inner):
            return .not(check(inner, path: "\(path).not", scope: scope, rowsOf: table))
        case .subscription(let channel, let status, let resource):
            return .subscription(channel: channel.rawValue, status: status?.rawValue, resource: resource)
        case .field(let key, let op, let input):
            guard let field = scope.first(where: { $0.key == key }) else {
                let what = table.map { "the table '\($0)' has no column '\(key)'; its columns are " } ?? "the database has no field '\(key)'; its fields are "
                return fail(path, what + scope.map(\.key).joined(separator: ", "))
            }
            return condition(field, op, input, path: path)
        case .activity(let activity):
            return self.activity(activity, path: path + ".activity")
        case .table(let table):
            return self.table(table, path: path + ".table")
        case .segment(let id):
            guard let segment = segments[id], segment.databaseId == database._id else {
                return fail(path + ".segment", "no segment '\(id)' in this database")
            }
            if segment.kind == .fixed { return .member(segmentId: id) }
            guard !inlining.contains(id) else {
                return fail(path + ".segment", "the segment '\(segment.name)' includes itself through \((inlining + [id]).compactMap { segments[$0]?.name }.joined(separator: " → "))")
            }
            inlining.append(id)
            defer { inlining.removeLast() }
            let before = errors.count
            let inner = check(segment.rule ?? .all([]), path: path + ".segment", scope: scope, rowsOf: nil)
            if errors.count > before {
                // The other segment's own rule is wrong (the schema changed under it).
                errors[before...] = [RuleError(path: path + ".segment", message: "the segment '\(segment.name)' has a rule that no longer fits: " + errors[before...].map(\.description).joined(separator: "; "))]
            }
            return inner
        case .related(let relation):
            guard ProfileRelation.isValidKind(relation.kind) else {
                return fail(path + ".related.kind", "a relation kind is a word of lower-case letters, digits and _ (family, colleague, referrer, …)")
            }
            return .related(kind: relation.kind, direction: relation.direction, check(relation.rule, path: path + ".related.rule", scope: database.fields, rowsOf: nil))
        }
    }

    mutating func days(_ days: Int?, path: String) -> Date? {
        guard let days else { return nil }
        guard (0...3650).contains(days) else {
            errors.append(RuleError(path: path, message: "give a whole number of days from 0 to 3650"))
            return nil
        }
        return now.addingTimeInterval(-Double(days) * 86400)
    }

    mutating func activity(_ rule: ActivityRule, path: String) -> CheckedRule {
        let group = rule.kind.hasSuffix(".*")
        let kind = group ? String(rule.kind.dropLast()) : rule.kind
        guard ActivityEvent.isValidKind(group ? kind + "x" : kind) else {
            return fail(path + ".kind", "an event kind is lower-case words joined by dots (message.opened, site.visit, goal.reached), or a group such as message.*")
        }
        let properties = rule.where.enumerated().map { index, condition in property(condition, path: "\(path).where[\(index)]") }
        let (comparison, count) = (rule.count?.op ?? .gte, rule.count?.value ?? 1)
        if count < 0 || count.rounded() != count { errors.append(RuleError(path: path + ".count.value", message: "give a whole number of events, 0 or more")) }
        return .activity(ActivityQuery(kind: kind, prefix: group, properties: .all(properties), since: days(rule.withinLastDays, path: path + ".within_last_days"),
                                       comparison: comparison, count: count))
    }

    /// A condition on an event property: untyped, so the value is compared as the JSON gives it.
    mutating func property(_ condition: PropertyCondition, path: String) -> CheckedRule {
        let name = condition.property
        guard !name.isEmpty, name.count <= 64, name.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-" }) else {
            return fail(path + ".property", "a property name is letters, digits, _ and - (url, campaign, goal, browser, …)")
        }
        func scalar(_ input: FieldInput) -> BSONValue? {
            switch input {
            case .text(let text): return .string(text)
            case .number(let number): return .double(number)
            case .bool(let flag): return .bool(flag)
            default:
                errors.append(RuleError(path: path + ".value", message: "give a text, a number or true/false"))
                return nil
            }
        }
        switch condition.op {
        case .eq, .ne, .gt, .gte, .lt, .lte:
            guard let value = scalar(condition.value) else { return .all([]) }
            return .compare(path: name, CheckedRule.Comparison(rawValue: condition.op.rawValue)!, value)
        case .in, .notIn:
            guard case .list(let items) = condition.value, !items.isEmpty else { return fail(path + ".value", "give a non-empty list of values") }
            return .oneOf(path: name, items.compactMap(scalar), negated: condition.op == .notIn)
        case .contains, .startsWith:
            guard case .text(let text) = condition.value, !text.isEmpty else { return fail(path + ".value", "give the text to look for") }
            let literal = NSRegularExpression.escapedPattern(for: text)
            return .pattern(path: name, condition.op == .startsWith ? "^" + literal : literal, caseInsensitive: true)
        case .regex:
            guard case .text(let pattern) = condition.value, !pattern.isEmpty, (try? NSRegularExpression(pattern: pattern)) != nil else {
                return fail(path + ".value", "give a valid regular expression")
            }
            return .pattern(path: name, pattern, caseInsensitive: false)
        case .empty, .notEmpty:
            return .empty(path: name, negated: condition.op == .notEmpty)
        case .between, .inNextDays, .withinLastDays:
            return fail(path + ".op", "'\(condition.op.rawValue)' does not apply to event properties; use eq, ne, in, not_in, contains, starts_with, regex, gt, gte, lt, lte, empty or not_empty")
        }
    }

    mutating func table(_ rule: TableRule, path: String) -> CheckedRule {
        guard let field = database.field(rule.field), field.type == .table else {
            return fail(path + ".field", "the database has no table field '\(rule.field)'; its tables are " + database.fields.filter { $0.type == .table }.map(\.key).joined(separator: ", "))
        }
        var rows = [check(rule.where ?? .all([]), path: path + ".where", scope: field.columns, rowsOf: field.key)]
        if let dateKey = rule.dateColumn ?? (rule.withinLastDays != nil ? "" : nil) {
            if let column = field.columns.first(where: { $0.key == dateKey }), column.type == .date || column.type == .dateTime {
                if rule.withinLastDays != nil {
                    rows.append(condition(column, .withinLastDays, .number(Double(rule.withinLastDays!)), path: path + ".within_last_days"))
                }
            } else {
                errors.append(RuleError(path: path + ".date_column", message: "within_last_days needs date_column: one of the date columns " + field.columns.filter { $0.type == .date || $0.type == .dateTime }.map(\.key).joined(separator: ", ")))
            }
        }
        var column: FieldDefinition?
        if rule.aggregate != .count {
            column = field.columns.first { $0.key == rule.column }
            let fits: Set<FieldType> = rule.aggregate == .sum || rule.aggregate == .avg ? [.integer, .decimal] : [.integer, .decimal, .date, .dateTime]
            guard let found = column, fits.contains(found.type) else {
                return fail(path + ".column", "\(rule.aggregate.rawValue) needs a column of type \(fits.map(\.rawValue).sorted().joined(separator: " or ")): one of " + field.columns.filter { fits.contains($0.type) }.map(\.key).joined(separator: ", "))
            }
        }
        // Only rows that have the column take part (both the store's `$group` and the evaluator
        // then see the same rows; an aggregate of no rows is 0 for count and sum, and holds for
        // nothing otherwise).
        if let column { rows.append(.empty(path: column.key, negated: true)) }
        let value: BSONValue
        switch rule.aggregate {
        case .count, .sum, .avg:
            guard case .number(let number) = rule.value else { return fail(path + ".value", "give a number") }
            value = .double(number)
        case .min, .max:
            var scalar = column!
            scalar.required = false
            switch FieldValueParser.parse(rule.value, as: scalar) {
            case .success(.null): return fail(path + ".value", "a value is required")
            case .success(let parsed): value = parsed
            case .failure(let failure): return fail(path + ".value", failure.message)
            }
        }
        return .table(TableQuery(field: field.key, rows: .all(rows), aggregate: rule.aggregate, column: column?.key, comparison: rule.op, value: value))
    }

    /// A condition on a field (or a column), its value checked as the field accepts it.
    mutating func condition(_ field: FieldDefinition, _ op: SegmentRule.Operator, _ input: FieldInput, path: String) -> CheckedRule {
        let key = field.key
        guard Self.allowed(field.type).contains(op) else {
            return fail(path, "'\(op.rawValue)' does not fit a \(field.type.rawValue) field; use one of \(Self.allowed(field.type).map(\.rawValue).sorted().joined(separator: ", "))")
        }
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
            return .compare(path: key, CheckedRule.Comparison(rawValue: op.rawValue)!, v)
        case .contains where field.type == .stringList:
            guard let v = value(input) else { return .all([]) }
            return .compare(path: key, .eq, v)
        case .in, .notIn:
            guard case .list(let items) = input, !items.isEmpty else { return fail(path, "give a non-empty list of values") }
            return .oneOf(path: key, items.compactMap(value), negated: op == .notIn)
        case .contains, .startsWith:
            guard case .text(let text) = input, !text.isEmpty else { return fail(path, "give the text to look for") }
            let literal = NSRegularExpression.escapedPattern(for: field.type == .email ? text.lowercased() : text)
            return .pattern(path: key, op == .startsWith ? "^" + literal : literal, caseInsensitive: true)
        case .regex:
            guard case .text(let pattern) = input, !pattern.isEmpty, (try? NSRegularExpression(pattern: pattern)) != nil else {
                return fail(path, "give a valid regular expression")
            }
            return .pattern(path: key, pattern, caseInsensitive: false)
        case .between:
            guard case .list(let bounds) = input, bounds.count == 2 else { return fail(path, "give two values, the lowest and the highest: [a, b]") }
            let low = value(bounds[0]), high = value(bounds[1])
            guard let low, let high else { return .all([]) }  // each bad bound is already reported
            return .all([.compare(path: key, .gte, low), .compare(path: key, .lte, high)])
        case .empty, .notEmpty:
            return .empty(path: key, negated: op == .notEmpty)
        case .inNextDays:
            guard let n = days(input) else { return .all([]) }
            return .pattern(path: key, "-(" + Self.monthDays(from: now, count: n + 1).joined(separator: "|") + ")$", caseInsensitive: false)
        case .withinLastDays:
            guard let n = days(input) else { return .all([]) }
            let since = now.addingTimeInterval(-Double(n) * 86400)
            if field.type == .date {
                var calendar = Calendar(identifier: .gregorian)
                calendar.timeZone = TimeZone(identifier: "UTC")!
                let c = calendar.dateComponents([.year, .month, .day], from: since)
                return .compare(path: key, .gte, .string(String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)))
            }
            return .compare(path: key, .gte, .date(since))
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
