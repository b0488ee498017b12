/// A compiled template: a tree of nodes, rendered many times.
indirect enum TemplateNode: Sendable {
    case text([UInt8])
    case output(Pipeline)
    case conditional(branches: [(condition: Condition, body: [TemplateNode])], otherwise: [TemplateNode]?)
    case loop(Loop)
    case assign(String, Pipeline)
    case capture(String, [TemplateNode])
    case breakLoop
    case continueLoop
}

struct Loop: Sendable {
    var variable: String
    var collection: Expression
    var limit: Expression?
    var offset: Expression?
    var reversed: Bool
    var body: [TemplateNode]
    var empty: [TemplateNode]?
}

indirect enum Expression: Sendable {
    case literal(TemplateValue)
    case variable(String, [PathStep])
    case range(Expression, Expression)
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

indirect enum Condition: Sendable {
    enum Operator: String, Sendable { case equal = "==", notEqual = "!=", less = "<", greater = ">", lessOrEqual = "<=", greaterOrEqual = ">=", contains }
    case truthy(Expression)
    case compare(Expression, Operator, Expression)
    case and(Condition, Condition)
    case or(Condition, Condition)
    case not(Condition)
}
