/// A compiled template: a tree of nodes, rendered many times.
enum TemplateNode: Sendable {
    case text([UInt8])
    case output(Pipeline)
    case conditional(branches: [(condition: Condition, body: [TemplateNode])], otherwise: [TemplateNode]?)
    case loop(Loop)
    case assign(Int, Pipeline)
    case capture(Int, [TemplateNode])
    case breakLoop
    case continueLoop
}

struct Loop: Sendable {
    /// The slot of the loop variable.
    var variable: Int
    var collection: Expression
    var limit: Expression?
    var offset: Expression?
    var reversed: Bool
    var body: [TemplateNode]
    var empty: [TemplateNode]?
}

enum Expression: Sendable {
    case literal(TemplateValue)
    /// A variable by its slot (see ``SlotTable``) and the path into it.
    case variable(Int, [PathStep])
    indirect case range(Expression, Expression)
    /// Liquid's `empty` and `blank`: equal to an empty string, array or object (and `blank` to nil).
    case empty
}

enum PathStep: Sendable {
    case key(String)
    case index(Int)
    case dynamic(Expression)
}

struct Pipeline: Sendable {
    var expression: Expression
    var filters: [FilterCall]
}

struct FilterCall: Sendable {
    var name: String
    var function: TemplateFilter
    var arguments: [Expression]
}

enum Condition: Sendable {
    enum Operator: String, Sendable { case equal = "==", notEqual = "!=", less = "<", greater = ">", lessOrEqual = "<=", greaterOrEqual = ">=", contains }
    case truthy(Expression)
    case compare(Expression, Operator, Expression)
    indirect case and(Condition, Condition)
    indirect case or(Condition, Condition)
    indirect case not(Condition)
}

/// Every variable name a template uses gets a slot number at compile time, so that rendering
/// reads an array instead of hashing names (a render looks each root name up once).
final class SlotTable: @unchecked Sendable {
    // @unchecked Sendable: filled while one thread compiles, read-only afterwards.
    private(set) var names: [String] = []
    private var index: [String: Int] = [:]

    func slot(_ name: String) -> Int {
        if let i = index[name] { return i }
        names.append(name)
        index[name] = names.count - 1
        return names.count - 1
    }

    func existingSlot(_ name: String) -> Int? { index[name] }
}
