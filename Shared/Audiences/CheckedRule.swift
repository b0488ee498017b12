import BSON
import CustomerData
import Foundation

/// A rule checked against a database's schema, its values in stored form: what the compiler and
/// the evaluator both work from, so they cannot read a rule differently. Paths are relative to
/// the record a condition looks at — a profile's fields, a table row, an event's properties.
public indirect enum CheckedRule: Sendable, Equatable {
    public enum Comparison: String, Sendable, Codable, CaseIterable { case eq, ne, gt, gte, lt, lte }

    case all([CheckedRule])
    case any([CheckedRule])
    case not(CheckedRule)
    /// `path` compared with `value` (for lists: eq means "holds", ne "does not hold").
    case compare(path: String, Comparison, BSONValue)
    /// One of `values` (or, negated, none of them).
    case oneOf(path: String, [BSONValue], negated: Bool)
    /// A text matching a regular expression.
    case pattern(path: String, String, caseInsensitive: Bool)
    /// Missing, null, "" or [] (or, negated, anything else).
    case empty(path: String, negated: Bool)
    case subscription(channel: String, status: String?, resource: String?)
    /// The number of the profile's events that match compares with a number.
    case activity(ActivityQuery)
    /// An aggregate over a table field's matching rows compares with a value.
    case table(TableQuery)
    /// A member of a fixed segment (a dynamic one's rule is inlined when checked).
    case member(segmentId: String)
    /// Has a relation of `kind` in `direction` to a profile matching the rule.
    case related(kind: String, direction: RelationRule.Direction, CheckedRule)
    /// One of these profiles (or, negated, none of them): what a store condition resolves to.
    case profiles(Set<String>, negated: Bool)

    /// Whether running the rule needs more than the profile document (activity, tables'
    /// aggregates in the store, segment members, relations): such rules are resolved by
    /// ``AudienceQuery`` before they are compiled.
    public var needsResolution: Bool {
        switch self {
        case .all(let rules), .any(let rules): rules.contains(where: \.needsResolution)
        case .not(let rule): rule.needsResolution
        case .activity, .table, .member, .related: true
        default: false
        }
    }
}

/// Every place a rule is wrong.
public struct RuleErrors: Error, Sendable, Equatable, CustomStringConvertible {
    public let errors: [RuleError]
    public var description: String { errors.map(\.description).joined(separator: "; ") }
}

/// Where a rule is wrong, and why; a wrong rule is never run.
public struct RuleError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `rule.all[2].any[0]`.
    public let path: String
    public let message: String
    public var description: String { "\(path): \(message)" }
}
