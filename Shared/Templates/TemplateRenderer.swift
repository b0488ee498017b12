/// Renders nodes for one recipient, within ``RenderLimits``.
struct TemplateRenderer {
    /// Every variable's value by slot: the context's at the start, then assignments and loop variables.
    var slots: [TemplateValue]
    let forloopSlot: Int?
    let limits: RenderLimits
    var out: [UInt8]
    var iterations = 0
    let clock = ContinuousClock()
    let deadline: ContinuousClock.Instant

    private enum Interrupt: Error { case breakLoop, continueLoop }

    init(slots: [TemplateValue], forloopSlot: Int?, limits: RenderLimits, capacity: Int) {
        self.slots = slots
        self.forloopSlot = forloopSlot
        self.limits = limits
        out = []
        out.reserveCapacity(capacity)
        deadline = clock.now.advanced(by: limits.renderTime)
    }

    mutating func render(_ nodes: [TemplateNode]) throws(TemplateRenderError) {
        do {
            try run(nodes)
        } catch let e as TemplateRenderError {
            throw e
        } catch {
            // A break or continue outside a loop ends the render, as in Liquid.
        }
    }

    private mutating func run(_ nodes: [TemplateNode]) throws {
        for i in nodes.indices {
            switch nodes[i] {
            case .text(let bytes):
                out.append(contentsOf: bytes)
                try checkOutput()
            case .output(let pipeline):
                try evaluate(pipeline).write(to: &out)
                try checkOutput()
            case .conditional(let branches, let otherwise):
                var matched = false
                for branch in branches where try test(branch.condition) {
                    try run(branch.body)
                    matched = true
                    break
                }
                if !matched, let otherwise { try run(otherwise) }
            case .loop(let loop):
                try runLoop(loop)
            case .assign(let slot, let pipeline):
                slots[slot] = try evaluate(pipeline)
            case .capture(let slot, let body):
                let start = out.count
                try run(body)
                let captured = String(decoding: out[start...], as: UTF8.self)
                out.removeSubrange(start...)
                slots[slot] = .string(captured)
            case .breakLoop: throw Interrupt.breakLoop
            case .continueLoop: throw Interrupt.continueLoop
            }
        }
    }

    private mutating func checkOutput() throws(TemplateRenderError) {
        if out.count > limits.outputBytes {
            throw TemplateRenderError(kind: .outputLimit, message: "the message grew past \(limits.outputBytes) bytes; a loop or an include repeats too much")
        }
    }

    private mutating func runLoop(_ loop: Loop) throws {
        var items: [TemplateValue]
        switch try value(loop.collection) {
        case .array(let a): items = a
        case .object(let o): items = o.keys.sorted().map { .array([.string($0), o[$0]!]) }
        case .string(let s) where !s.isEmpty: items = [.string(s)]
        default: items = []
        }
        if let offset = loop.offset, let n = try value(offset).number { items = Array(items.dropFirst(max(0, Int(n)))) }
        if let limit = loop.limit, let n = try value(limit).number { items = Array(items.prefix(max(0, Int(n)))) }
        if loop.reversed { items.reverse() }
        guard !items.isEmpty else {
            if let empty = loop.empty { try run(empty) }
            return
        }
        // The loop variable (and forloop) are the loop's own: what they were before comes back after.
        let savedVariable = slots[loop.variable]
        let savedForloop = forloopSlot.map { slots[$0] }
        defer {
            slots[loop.variable] = savedVariable
            if let forloopSlot, let savedForloop { slots[forloopSlot] = savedForloop }
        }
        for (i, item) in items.enumerated() {
            iterations += 1
            if iterations > limits.loopIterations {
                throw TemplateRenderError(kind: .loopLimit, message: "loops ran more than \(limits.loopIterations) times in one message")
            }
            if iterations & 63 == 0, clock.now > deadline {
                throw TemplateRenderError(kind: .timeLimit, message: "rendering took longer than \(limits.renderTime)")
            }
            slots[loop.variable] = item
            if let forloopSlot {
                slots[forloopSlot] = .object([
                    "index": .int(i + 1), "index0": .int(i), "first": .bool(i == 0), "last": .bool(i == items.count - 1),
                    "length": .int(items.count), "rindex": .int(items.count - i), "rindex0": .int(items.count - i - 1),
                ])
            }
            do {
                try run(loop.body)
            } catch Interrupt.breakLoop {
                break
            } catch Interrupt.continueLoop {
                continue
            }
        }
    }

    // MARK: Values

    func value(_ expression: Expression) throws(TemplateRenderError) -> TemplateValue {
        switch expression {
        case .literal(let v): return v
        case .empty: return .string("")
        case .range(let from, let to):
            guard let a = try value(from).number, let b = try value(to).number else {
                throw TemplateRenderError(kind: .invalidValue, message: "a range needs numbers at both ends")
            }
            let lo = Int(a), hi = Int(b)
            guard hi - lo <= limits.loopIterations else {
                throw TemplateRenderError(kind: .loopLimit, message: "the range (\(lo)..\(hi)) is longer than \(limits.loopIterations)")
            }
            return .array(lo <= hi ? (lo...hi).map { .int($0) } : [])
        case .variable(let slot, let path):
            var v = slots[slot]
            for i in path.indices {
                switch path[i] {
                case .key(let key): v = member(v, key)
                case .index(let i): v = element(v, i)
                case .dynamic(let e):
                    let k = try value(e)
                    if case .int(let i) = k { v = element(v, i) } else { v = member(v, k.text) }
                }
            }
            return v
        }
    }

    private func member(_ v: TemplateValue, _ key: String) -> TemplateValue {
        switch v {
        case .object(let o):
            if let found = o[key] { return found }
            return key == "size" ? .int(o.count) : .null
        case .array(let a):
            switch key {
            case "size": return .int(a.count)
            case "first": return a.first ?? .null
            case "last": return a.last ?? .null
            default: return .null
            }
        case .string(let s): return key == "size" ? .int(s.count) : .null
        default: return .null
        }
    }

    private func element(_ v: TemplateValue, _ i: Int) -> TemplateValue {
        guard case .array(let a) = v else { return .null }
        let index = i < 0 ? a.count + i : i
        return a.indices.contains(index) ? a[index] : .null
    }

    func evaluate(_ pipeline: Pipeline) throws(TemplateRenderError) -> TemplateValue {
        var v = try value(pipeline.expression)
        for filter in pipeline.filters {
            var arguments: [TemplateValue] = []
            arguments.reserveCapacity(filter.arguments.count)
            for a in filter.arguments { arguments.append(try value(a)) }
            v = try filter.function(v, arguments)
        }
        return v
    }

    func test(_ condition: Condition) throws(TemplateRenderError) -> Bool {
        switch condition {
        case .truthy(let e): return try value(e).isTruthy
        case .not(let c): return !(try test(c))
        case .and(let a, let b):
            guard try test(a) else { return false }
            return try test(b)
        case .or(let a, let b):
            if try test(a) { return true }
            return try test(b)
        case .compare(let l, let op, let r):
            if case .empty = r { return Self.emptyCompare(try value(l), op) }
            if case .empty = l { return Self.emptyCompare(try value(r), op) }
            let a = try value(l), b = try value(r)
            switch op {
            case .equal: return Self.equal(a, b)
            case .notEqual: return !Self.equal(a, b)
            case .less: return Self.less(a, b)
            case .greater: return Self.less(b, a)
            case .lessOrEqual: return Self.less(a, b) || Self.equal(a, b)
            case .greaterOrEqual: return Self.less(b, a) || Self.equal(a, b)
            case .contains:
                switch a {
                case .string(let s): return s.contains(b.text)
                case .array(let items): return items.contains { Self.equal($0, b) }
                case .object(let o): return o[b.text] != nil
                default: return false
                }
            }
        }
    }

    private static func emptyCompare(_ v: TemplateValue, _ op: Condition.Operator) -> Bool {
        op == .notEqual ? !v.isEmpty : (op == .equal && v.isEmpty)
    }

    static func equal(_ a: TemplateValue, _ b: TemplateValue) -> Bool {
        switch (a, b) {
        case (.int(let x), .double(let y)): return Double(x) == y
        case (.double(let x), .int(let y)): return x == Double(y)
        default: return a == b
        }
    }

    static func less(_ a: TemplateValue, _ b: TemplateValue) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): return x < y
        default:
            guard let x = a.number, let y = b.number else { return false }
            return x < y
        }
    }
}
