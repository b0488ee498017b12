import BSON

/// A checked rule as a query of the customer-data store: it runs in the database. NOT is pushed
/// down to the conditions (De Morgan; a negated comparison becomes the opposite one or a missing
/// value), and only where no opposite exists becomes `$nor` — portable (no `$not`), and exact on
/// nx-27017, whose `$nor` misses documents without the field for range comparisons.
///
/// Conditions that need more than the document (activity, table aggregates, segment members,
/// relations) are first resolved to profile ids by ``AudienceQuery``.
public enum RuleCompiler {
    /// The filter of profiles (condition paths under `fields.`).
    public static func filter(_ rule: CheckedRule) -> BSONDocument { filter(rule, prefix: "fields.") }

    /// The filter of records whose condition paths are under `prefix` (`fields.orders.` for
    /// unwound table rows, `properties.` for events, `` for a grouped value).
    public static func filter(_ rule: CheckedRule, prefix: String) -> BSONDocument { Compilation(prefix: prefix).filter(rule, negated: false) }

    static let opposite: [CheckedRule.Comparison: CheckedRule.Comparison] = [.eq: .ne, .ne: .eq, .gt: .lte, .gte: .lt, .lt: .gte, .lte: .gt]

    struct Compilation {
        let prefix: String

        func filter(_ rule: CheckedRule) -> BSONDocument { filter(rule, negated: false) }

        func filter(_ rule: CheckedRule, negated: Bool) -> BSONDocument {
            switch rule {
            case .all(let rules) where negated:
                return filter(.any(rules.map { .not($0) }))
            case .any(let rules) where negated:
                return filter(.all(rules.map { .not($0) }))
            case .not(let inner):
                return filter(inner, negated: !negated)
            case .compare(let path, let comparison, let value) where negated:
                let flipped = opposite[comparison]!
                if comparison == .eq || comparison == .ne { return filter(.compare(path: path, flipped, value)) }
                // (ne is compiled below as `$nor` of eq: for a list that is "holds no such element".)
                // Not greater is smaller or equal, or no value at all.
                var missing = BSONDocument()
                missing.append(prefix + path, .null)
                return ["$or": [.document(filter(.compare(path: path, flipped, value))), .document(missing)]]
            case .oneOf(let path, let values, let isNegated) where negated:
                return filter(.oneOf(path: path, values, negated: !isNegated))
            case .profiles(let ids, let isNegated) where negated:
                return filter(.profiles(ids, negated: !isNegated))
            case let rule where negated:
                return ["$nor": [.document(filter(rule))]]
            case .all(let rules):
                return rules.isEmpty ? [:] : ["$and": .array(rules.map { .document(filter($0)) })]
            case .any(let rules):
                return rules.isEmpty ? ["_id": ["$in": []]] : ["$or": .array(rules.map { .document(filter($0)) })]
            case .compare(let path, .ne, let value):
                // "Differs": not equal, for a list "holds no element equal" — `$nor` of equality says both
                // (nx-27017's `$ne` does not look inside lists).
                return ["$nor": [.document(filter(.compare(path: path, .eq, value)))]]
            case .compare(let path, let comparison, let value):
                var document = BSONDocument()
                document.append(prefix + path, comparison == .eq ? value : .document(["$" + comparison.rawValue: value]))
                return document
            case .oneOf(let path, let values, let negated):
                var document = BSONDocument()
                document.append(prefix + path, .document([negated ? "$nin" : "$in": .array(values)]))
                return document
            case .pattern(let path, let pattern, let caseInsensitive):
                var document = BSONDocument()
                document.append(prefix + path, caseInsensitive ? ["$regex": .string(pattern), "$options": "i"] : ["$regex": .string(pattern)])
                return document
            case .empty(let path, let negated):
                var missing = BSONDocument(), blank = BSONDocument(), none = BSONDocument()
                missing.append(prefix + path, .null)
                blank.append(prefix + path, "")
                none.append(prefix + path, ["$size": 0])
                let empty: BSONDocument = ["$or": [.document(missing), .document(blank), .document(none)]]
                return negated ? ["$nor": [.document(empty)]] : empty
            case .subscription(let channel, let status, let resource):
                var match: BSONDocument = ["channel": .string(channel)]
                if let status { match.append("status", .string(status)) }
                if let resource { match.append("resource", .string(resource)) }
                return ["subscriptions": ["$elemMatch": .document(match)]]
            case .profiles(let ids, let negated):
                return ["_id": [negated ? "$nin" : "$in": .array(ids.sorted().map { .string($0) })]]
            case .activity, .table, .member, .related:
                preconditionFailure("resolve activity, table, segment and relation conditions with AudienceQuery before compiling")
            }
        }
    }
}
