import CustomerData
import Foundation

/// A behaviour condition: how many of the profile's activity events of a kind (with properties
/// that match, within the last N days) there are — "opened an email of campaign X in the last 30
/// days", "visited a page matching /catalog at least 3 times", and, negated, "did not click in
/// 90 days". Goals, interests and devices are events too (`goal.reached` with `goal`,
/// `site.visit` with `browser` and `platform`); see docs/audiences.md.
public struct ActivityRule: Codable, Sendable, Equatable {
    /// An event kind (`message.opened`), or a group of kinds (`message.*`).
    public var kind: String
    /// Conditions on the event's properties; all must hold.
    public var `where`: [PropertyCondition]
    public var withinLastDays: Int?
    /// How many events it takes; at least one when not given.
    public var count: CountCondition?

    public init(kind: String, where conditions: [PropertyCondition] = [], withinLastDays: Int? = nil, count: CountCondition? = nil) {
        self.kind = kind
        self.where = conditions
        self.withinLastDays = withinLastDays
        self.count = count
    }

    enum CodingKeys: String, CodingKey {
        case kind, `where`, count
        case withinLastDays = "within_last_days"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decode(String.self, forKey: .kind)
        self.where = try c.decodeIfPresent([PropertyCondition].self, forKey: .where) ?? []
        withinLastDays = try c.decodeIfPresent(Int.self, forKey: .withinLastDays)
        count = try c.decodeIfPresent(CountCondition.self, forKey: .count)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        if !self.where.isEmpty { try c.encode(self.where, forKey: .where) }
        try c.encodeIfPresent(withinLastDays, forKey: .withinLastDays)
        try c.encodeIfPresent(count, forKey: .count)
    }
}

/// A condition on one property of an activity event (`{"property": "url", "op": "contains",
/// "value": "/catalog"}`); properties are untyped, so the value's JSON type is the one compared.
public struct PropertyCondition: Codable, Sendable, Equatable {
    public var property: String
    public var op: SegmentRule.Operator
    public var value: FieldInput

    public init(property: String, op: SegmentRule.Operator, value: FieldInput = .null) {
        self.property = property
        self.op = op
        self.value = value
    }

    enum CodingKeys: String, CodingKey { case property, op, value }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        property = try c.decode(String.self, forKey: .property)
        op = try c.decode(SegmentRule.Operator.self, forKey: .op)
        value = try c.decodeIfPresent(FieldInput.self, forKey: .value) ?? .null
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(property, forKey: .property)
        try c.encode(op, forKey: .op)
        if value != .null { try c.encode(InputJSON(value), forKey: .value) }
    }
}

/// A number compared: `{"op": "gte", "value": 3}`.
public struct CountCondition: Codable, Sendable, Equatable {
    public var op: CheckedRule.Comparison
    public var value: Double

    public init(_ op: CheckedRule.Comparison, _ value: Double) {
        self.op = op
        self.value = value
    }
}
