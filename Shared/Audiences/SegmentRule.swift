import CustomerData
import Foundation

/// A segment's rule: nested groups (all / any / not) of conditions on profile fields,
/// subscriptions, activity (behaviour, goals, devices), table rows (transactions, loyalty),
/// relations and other segments. Stored as data — `{"version": 1, "rule": …}`, documented in
/// docs/audiences.md — then compiled to a store query (``RuleCompiler``) or evaluated for one
/// profile (``RuleEvaluator``); the two agree (tested on random rules and profiles).
public indirect enum SegmentRule: Sendable, Equatable, Codable {
    case all([SegmentRule])
    case any([SegmentRule])
    case not(SegmentRule)
    case field(key: String, op: Operator, value: FieldInput)
    /// Holds a subscription on `channel` (with `status`, and for `resource`, when given).
    case subscription(channel: Subscription.Channel, status: Subscription.Status?, resource: String?)
    /// Behaviour: the profile's activity events.
    case activity(ActivityRule)
    /// Transactions: an aggregate over a table field's rows.
    case table(TableRule)
    /// Membership of another segment of the same database (by id).
    case segment(String)
    /// A related profile that matches a rule.
    case related(RelationRule)

    public enum Operator: String, Codable, Sendable, CaseIterable {
        case eq, ne
        case `in` = "in"
        case notIn = "not_in"
        case contains
        case startsWith = "starts_with"
        case regex, gt, gte, lt, lte, between, empty
        case notEmpty = "not_empty"
        /// A date's day and month fall within the next N days (birthdays, anniversaries); value N.
        case inNextDays = "in_next_days"
        /// A date or date-time within the last N days; value N.
        case withinLastDays = "within_last_days"
    }

    private enum Keys: String, CodingKey { case all, any, not, field, op, value, subscription, activity, table, segment, related }
    private enum SubscriptionKeys: String, CodingKey { case channel, status, resource }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        if let rules = try c.decodeIfPresent([SegmentRule].self, forKey: .all) {
            self = .all(rules)
        } else if let rules = try c.decodeIfPresent([SegmentRule].self, forKey: .any) {
            self = .any(rules)
        } else if let rule = try c.decodeIfPresent(SegmentRule.self, forKey: .not) {
            self = .not(rule)
        } else if let key = try c.decodeIfPresent(String.self, forKey: .field) {
            self = .field(key: key, op: try c.decode(Operator.self, forKey: .op), value: try c.decodeIfPresent(FieldInput.self, forKey: .value) ?? .null)
        } else if c.contains(.subscription) {
            let s = try c.nestedContainer(keyedBy: SubscriptionKeys.self, forKey: .subscription)
            self = .subscription(channel: try s.decode(Subscription.Channel.self, forKey: .channel),
                                 status: try s.decodeIfPresent(Subscription.Status.self, forKey: .status), resource: try s.decodeIfPresent(String.self, forKey: .resource))
        } else if let activity = try c.decodeIfPresent(ActivityRule.self, forKey: .activity) {
            self = .activity(activity)
        } else if let table = try c.decodeIfPresent(TableRule.self, forKey: .table) {
            self = .table(table)
        } else if let segment = try c.decodeIfPresent(String.self, forKey: .segment) {
            self = .segment(segment)
        } else if let related = try c.decodeIfPresent(RelationRule.self, forKey: .related) {
            self = .related(related)
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: Self.forms))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        switch self {
        case .all(let rules): try c.encode(rules, forKey: .all)
        case .any(let rules): try c.encode(rules, forKey: .any)
        case .not(let rule): try c.encode(rule, forKey: .not)
        case .field(let key, let op, let value):
            try c.encode(key, forKey: .field)
            try c.encode(op, forKey: .op)
            if value != .null { try c.encode(InputJSON(value), forKey: .value) }
        case .subscription(let channel, let status, let resource):
            var s = c.nestedContainer(keyedBy: SubscriptionKeys.self, forKey: .subscription)
            try s.encode(channel, forKey: .channel)
            try s.encodeIfPresent(status, forKey: .status)
            try s.encodeIfPresent(resource, forKey: .resource)
        case .activity(let activity): try c.encode(activity, forKey: .activity)
        case .table(let table): try c.encode(table, forKey: .table)
        case .segment(let id): try c.encode(id, forKey: .segment)
        case .related(let related): try c.encode(related, forKey: .related)
        }
    }

    static let forms = #"a rule is {"all": […]}, {"any": […]}, {"not": …}, {"field", "op", "value"}, {"subscription": {"channel"}}, {"activity": {"kind"}}, {"table": {"field"}}, {"segment": id} or {"related": {"kind", "rule"}}"#
}

/// A ``FieldInput`` written back as JSON.
struct InputJSON: Encodable {
    let input: FieldInput
    init(_ input: FieldInput) { self.input = input }

    func encode(to encoder: any Encoder) throws {
        switch input {
        case .null: var c = encoder.singleValueContainer(); try c.encodeNil()
        case .text(let text): var c = encoder.singleValueContainer(); try c.encode(text)
        case .number(let number): var c = encoder.singleValueContainer(); try c.encode(number)
        case .bool(let flag): var c = encoder.singleValueContainer(); try c.encode(flag)
        case .list(let items): var c = encoder.unkeyedContainer(); for item in items { try c.encode(InputJSON(item)) }
        case .object(let object): var c = encoder.singleValueContainer(); try c.encode(object.mapValues(InputJSON.init))
        }
    }
}
