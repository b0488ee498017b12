import CustomerData
import Foundation

/// An activity condition, checked: events of `kind` (or of every kind starting with it, when
/// `prefix`) since a moment, whose properties match `properties`; their count compared.
public struct ActivityQuery: Sendable, Equatable {
    public var kind: String
    public var prefix: Bool
    public var properties: CheckedRule
    public var since: Date?
    public var comparison: CheckedRule.Comparison
    public var count: Double

    public func matches(_ event: ActivityEvent) -> Bool {
        guard prefix ? event.kind.hasPrefix(kind) : event.kind == kind else { return false }
        if let since, event.at < since { return false }
        return RuleEvaluator.matches(properties, record: event.properties)
    }
}
