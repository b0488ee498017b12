import CustomerData
import Foundation

/// A transaction condition over the rows of a table field (orders, payments, loyalty accounts):
/// the rows that match `where` (and fall within the last N days by `date_column`), aggregated —
/// count, sum, average, minimum or maximum of a column — and compared: "orders over 5,000 in
/// the last 90 days" is `sum` of `amount` `gt` 5000 with `within_last_days` 90.
public struct TableRule: Codable, Sendable, Equatable {
    public enum Aggregate: String, Codable, Sendable, CaseIterable { case count, sum, avg, min, max }

    /// The table field.
    public var field: String
    /// Conditions on the row's columns (field rules, groups allowed).
    public var `where`: SegmentRule?
    public var dateColumn: String?
    public var withinLastDays: Int?
    public var aggregate: Aggregate
    /// The column summed, averaged, or whose least or greatest value is taken.
    public var column: String?
    public var op: CheckedRule.Comparison
    public var value: FieldInput

    public init(field: String, where rows: SegmentRule? = nil, dateColumn: String? = nil, withinLastDays: Int? = nil,
                aggregate: Aggregate = .count, column: String? = nil, op: CheckedRule.Comparison = .gte, value: FieldInput = .number(1)) {
        self.field = field
        self.where = rows
        self.dateColumn = dateColumn
        self.withinLastDays = withinLastDays
        self.aggregate = aggregate
        self.column = column
        self.op = op
        self.value = value
    }

    enum CodingKeys: String, CodingKey {
        case field, `where`, aggregate, column, op, value
        case dateColumn = "date_column"
        case withinLastDays = "within_last_days"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        field = try c.decode(String.self, forKey: .field)
        self.where = try c.decodeIfPresent(SegmentRule.self, forKey: .where)
        dateColumn = try c.decodeIfPresent(String.self, forKey: .dateColumn)
        withinLastDays = try c.decodeIfPresent(Int.self, forKey: .withinLastDays)
        aggregate = try c.decodeIfPresent(Aggregate.self, forKey: .aggregate) ?? .count
        column = try c.decodeIfPresent(String.self, forKey: .column)
        op = try c.decodeIfPresent(CheckedRule.Comparison.self, forKey: .op) ?? .gte
        value = try c.decodeIfPresent(FieldInput.self, forKey: .value) ?? .number(1)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(field, forKey: .field)
        try c.encodeIfPresent(self.where, forKey: .where)
        try c.encodeIfPresent(dateColumn, forKey: .dateColumn)
        try c.encodeIfPresent(withinLastDays, forKey: .withinLastDays)
        try c.encode(aggregate, forKey: .aggregate)
        try c.encodeIfPresent(column, forKey: .column)
        try c.encode(op, forKey: .op)
        try c.encode(InputJSON(value), forKey: .value)
    }
}
