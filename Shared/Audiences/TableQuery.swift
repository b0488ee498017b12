import BSON
import Foundation

/// A table condition, checked: rows of `field` matching `rows`, aggregated and compared.
public struct TableQuery: Sendable, Equatable {
    public var field: String
    public var rows: CheckedRule
    public var aggregate: TableRule.Aggregate
    public var column: String?
    public var comparison: CheckedRule.Comparison
    public var value: BSONValue

    /// The aggregate over no rows: 0 for count and sum, none for the others.
    public var ofNoRows: BSONValue? { aggregate == .count || aggregate == .sum ? .int32(0) : nil }
}
