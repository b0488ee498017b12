import BSON
import CustomerData
import Foundation

/// A rule checked against a database's schema, its values in stored form: what the compiler and
/// the evaluator both work from, so they cannot read a rule differently.
public indirect enum CheckedRule: Sendable, Equatable {
    public enum Comparison: String, Sendable { case eq, ne, gt, gte, lt, lte }

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
