/// Turns template source into nodes: the text and tag scanner, then a recursive-descent parser
/// over the tags with an expression parser for what is inside them.
struct TemplateParser {
    let name: String
    let source: [UInt8]
    let fragments: @Sendable (String) -> String?
    let filters: [String: TemplateFilter]
    /// Fragments being included, to stop include cycles.
    let includeChain: [String]
    /// Variable slots, shared with the fragments this template includes.
    let slots: SlotTable

    private enum SegmentKind { case text, output, tag }
    private struct Segment {
        var kind: SegmentKind
        var start: Int
        var end: Int
        /// Where `{{` or `{%` is, for errors.
        var offset: Int
    }

    private var segments: [Segment] = []
    private var position = 0

    init(name: String, source: String, fragments: @escaping @Sendable (String) -> String?, filters: [String: TemplateFilter],
         includeChain: [String] = [], slots: SlotTable = SlotTable())
    {
        self.slots = slots
        self.name = name
        self.source = Array(source.utf8)
        self.fragments = fragments
        self.filters = filters
        self.includeChain = includeChain + [name]
    }

    func error(_ offset: Int, _ message: String) -> TemplateSyntaxError {
        TemplateSyntaxError(template: name, source: source, offset: offset, message: message)
    }

    // MARK: Scanning

    private mutating func scan() throws(TemplateSyntaxError) {
        var i = 0
        var textStart = 0
        var trimNextText = false
        let n = source.count
        func isSpace(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 10 || c == 13 }
        func addText(_ start: Int, _ end: Int, trimLeading: Bool, trimTrailing: Bool) {
            var s = start, e = end
            if trimLeading { while s < e && isSpace(source[s]) { s += 1 } }
            if trimTrailing { while e > s && isSpace(source[e - 1]) { e -= 1 } }
            if s < e { segments.append(Segment(kind: .text, start: s, end: e, offset: s)) }
        }
        while i + 1 < n {
            guard source[i] == UInt8(ascii: "{"), source[i + 1] == UInt8(ascii: "{") || source[i + 1] == UInt8(ascii: "%") else {
                i += 1
                continue
            }
            let isTag = source[i + 1] == UInt8(ascii: "%")
            let open = i
            var contentStart = i + 2
            let trimBefore = contentStart < n && source[contentStart] == UInt8(ascii: "-")
            if trimBefore { contentStart += 1 }
            let closer: UInt8 = isTag ? UInt8(ascii: "%") : UInt8(ascii: "}")
            var j = contentStart
            var quote: UInt8 = 0
            while j + 1 < n {
                let c = source[j]
                if quote != 0 {
                    if c == quote { quote = 0 }
                } else if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                    quote = c
                } else if c == closer && source[j + 1] == UInt8(ascii: "}") {
                    break
                }
                j += 1
            }
            guard j + 1 < n else {
                throw error(open, isTag ? "this tag is not closed; end it with %}" : "this output is not closed; end it with }}")
            }
            var contentEnd = j
            let trimAfter = contentEnd > contentStart && source[contentEnd - 1] == UInt8(ascii: "-")
            if trimAfter { contentEnd -= 1 }
            addText(textStart, open, trimLeading: trimNextText, trimTrailing: trimBefore)
            i = j + 2
            textStart = i
            trimNextText = trimAfter
            if isTag {
                let word = firstWord(contentStart, contentEnd)
                if word == "raw" || word == "comment" {
                    // Everything up to the matching end tag is text (raw) or nothing (comment).
                    guard let (endOpen, endClose) = findEndTag("end" + word, from: i) else {
                        throw error(open, "{% \(word) %} has no {% end\(word) %}")
                    }
                    if word == "raw" { segments.append(Segment(kind: .text, start: i, end: endOpen, offset: i)) }
                    i = endClose
                    textStart = i
                    trimNextText = false
                    continue
                }
            }
            segments.append(Segment(kind: isTag ? .tag : .output, start: contentStart, end: contentEnd, offset: open))
        }
        addText(textStart, n, trimLeading: trimNextText, trimTrailing: false)
    }

    private func firstWord(_ start: Int, _ end: Int) -> String {
        var s = start
        while s < end && (source[s] == 32 || source[s] == 9 || source[s] == 10 || source[s] == 13) { s += 1 }
        var e = s
        while e < end && source[e] != 32 && source[e] != 9 && source[e] != 10 && source[e] != 13 { e += 1 }
        return String(decoding: source[s..<e], as: UTF8.self)
    }

    /// Finds `{% name %}` (with optional `-` and spaces) from `offset`; returns where it opens and ends.
    private func findEndTag(_ name: String, from offset: Int) -> (Int, Int)? {
        var i = offset
        while i + 1 < source.count {
            if source[i] == UInt8(ascii: "{") && source[i + 1] == UInt8(ascii: "%") {
                var s = i + 2
                if s < source.count && source[s] == UInt8(ascii: "-") { s += 1 }
                var e = s
                while e + 1 < source.count && !(source[e] == UInt8(ascii: "%") && source[e + 1] == UInt8(ascii: "}")) { e += 1 }
                var contentEnd = e
                if contentEnd > s && source[contentEnd - 1] == UInt8(ascii: "-") { contentEnd -= 1 }
                if firstWord(s, contentEnd) == name { return (i, min(e + 2, source.count)) }
                i = e
            }
            i += 1
        }
        return nil
    }

    // MARK: Parsing

    mutating func parse() throws(TemplateSyntaxError) -> [TemplateNode] {
        try scan()
        let (nodes, end) = try parseBlock(until: [])
        if let end { throw error(end.offset, "{% \(end.name) %} has no block to close") }
        return nodes
    }

    private struct BlockEnd {
        var name: String
        var tokens: [ExpressionToken]
        var offset: Int
    }

    /// Parses nodes until one of `terminators` (returned) or the end of the source.
    private mutating func parseBlock(until terminators: Set<String>) throws(TemplateSyntaxError) -> ([TemplateNode], BlockEnd?) {
        var nodes: [TemplateNode] = []
        while position < segments.count {
            let segment = segments[position]
            position += 1
            switch segment.kind {
            case .text:
                nodes.append(.text(Array(source[segment.start..<segment.end])))
            case .output:
                var tokens = TokenCursor(tokens: try tokenize(segment), end: segment.end, parser: self)
                guard !tokens.isAtEnd else { throw error(segment.offset, "this output is empty; put a variable or value between {{ and }}") }
                let pipeline = try tokens.pipeline()
                try tokens.expectEnd()
                nodes.append(.output(pipeline))
            case .tag:
                var tokens = try tokenize(segment)
                guard case .identifier(let tag)? = tokens.first?.kind else {
                    throw error(segment.offset, "a tag needs a name: {% if … %}, {% for … %}, {% assign … %}, …")
                }
                tokens.removeFirst()
                if terminators.contains(tag) { return (nodes, BlockEnd(name: tag, tokens: tokens, offset: segment.offset)) }
                var cursor = TokenCursor(tokens: tokens, end: segment.end, parser: self)
                try nodes.append(contentsOf: parseTag(tag, &cursor, segment))
            }
        }
        return (nodes, nil)
    }

    private func tokenize(_ segment: Segment) throws(TemplateSyntaxError) -> [ExpressionToken] {
        try ExpressionTokenizer.tokenize(source[segment.start..<segment.end]) { offset, message in error(offset, message) }
    }

    private mutating func parseTag(_ tag: String, _ c: inout TokenCursor, _ segment: Segment) throws(TemplateSyntaxError) -> [TemplateNode] {
        switch tag {
        case "if", "unless":
            var condition = try c.condition()
            try c.expectEnd()
            if tag == "unless" { condition = .not(condition) }
            var branches: [(condition: Condition, body: [TemplateNode])] = []
            var otherwise: [TemplateNode]?
            let endName = "end" + tag
            while true {
                let (body, end) = try parseBlock(until: ["elsif", "else", endName])
                guard let end else { throw error(segment.offset, "{% \(tag) %} has no {% \(endName) %}") }
                if otherwise != nil {
                    guard end.name == endName else { throw error(end.offset, "nothing may follow {% else %} but {% \(endName) %}") }
                    otherwise = body
                    break
                }
                branches.append((condition, body))
                if end.name == endName { break }
                var next = TokenCursor(tokens: end.tokens, end: segment.end, parser: self)
                if end.name == "elsif" {
                    condition = try next.condition()
                    try next.expectEnd()
                } else {
                    try next.expectEnd()
                    otherwise = []
                }
            }
            return [.conditional(branches: branches, otherwise: otherwise)]
        case "case":
            let subject = try c.expression()
            try c.expectEnd()
            // Text between {% case %} and the first {% when %} is ignored, as in Liquid.
            var (_, end) = try parseBlock(until: ["when", "else", "endcase"])
            var branches: [(condition: Condition, body: [TemplateNode])] = []
            var otherwise: [TemplateNode]?
            while let current = end, current.name != "endcase" {
                var w = TokenCursor(tokens: current.tokens, end: segment.end, parser: self)
                var condition: Condition?
                if current.name == "when" {
                    repeat {
                        let value = try w.expression()
                        let test = Condition.compare(subject, .equal, value)
                        condition = condition.map { .or($0, test) } ?? test
                    } while w.skipComma()
                }
                try w.expectEnd()
                let (body, next) = try parseBlock(until: ["when", "else", "endcase"])
                if let condition { branches.append((condition, body)) } else { otherwise = body }
                end = next
            }
            guard end != nil else { throw error(segment.offset, "{% case %} has no {% endcase %}") }
            return [.conditional(branches: branches, otherwise: otherwise)]
        case "for":
            guard case .identifier(let variable)? = c.next()?.kind, case .identifier("in")? = c.next()?.kind else {
                throw error(segment.offset, "write a loop as {% for item in collection %}")
            }
            var loop = Loop(variable: slots.slot(variable), collection: try c.expression(), limit: nil, offset: nil, reversed: false, body: [], empty: nil)
            while !c.isAtEnd {
                guard case .identifier(let option)? = c.next()?.kind else { throw c.unexpected("limit:, offset: or reversed") }
                switch option {
                case "reversed": loop.reversed = true
                case "limit", "offset":
                    try c.expect(.colon, "':' after \(option)")
                    let value = try c.expression()
                    if option == "limit" { loop.limit = value } else { loop.offset = value }
                default: throw error(c.lastOffset, "unknown loop option '\(option)'; use limit:, offset: or reversed")
                }
            }
            let (body, end) = try parseBlock(until: ["else", "endfor"])
            guard let end else { throw error(segment.offset, "{% for %} has no {% endfor %}") }
            loop.body = body
            if end.name == "else" {
                let (empty, close) = try parseBlock(until: ["endfor"])
                guard close != nil else { throw error(segment.offset, "{% for %} has no {% endfor %}") }
                loop.empty = empty
            }
            return [.loop(loop)]
        case "assign":
            guard case .identifier(let variable)? = c.next()?.kind else { throw error(segment.offset, "write {% assign name = value %}") }
            guard case .op("=")? = c.peek?.kind else {
                // The tokenizer reads a lone '=' as an operator only as '=='; accept 'name = value'.
                throw error(c.peek?.offset ?? segment.offset, "write {% assign \(variable) = value %}")
            }
            _ = c.next()
            let pipeline = try c.pipeline()
            try c.expectEnd()
            return [.assign(slots.slot(variable), pipeline)]
        case "capture":
            guard case .identifier(let variable)? = c.next()?.kind else { throw error(segment.offset, "write {% capture name %}…{% endcapture %}") }
            try c.expectEnd()
            let (body, end) = try parseBlock(until: ["endcapture"])
            guard end != nil else { throw error(segment.offset, "{% capture %} has no {% endcapture %}") }
            return [.capture(slots.slot(variable), body)]
        case "include", "render":
            guard case .string(let fragment)? = c.next()?.kind else { throw error(segment.offset, "write {% include \"fragment-name\" %}") }
            try c.expectEnd()
            guard !includeChain.contains(fragment) else {
                throw error(segment.offset, "the fragment '\(fragment)' includes itself (\((includeChain + [fragment]).joined(separator: " → ")))")
            }
            guard includeChain.count < 10 else { throw error(segment.offset, "fragments are nested more than 10 deep") }
            guard let text = fragments(fragment) else { throw error(segment.offset, "there is no fragment named '\(fragment)'") }
            var parser = TemplateParser(name: fragment, source: text, fragments: fragments, filters: filters, includeChain: includeChain, slots: slots)
            return try parser.parse()
        case "echo":
            let pipeline = try c.pipeline()
            try c.expectEnd()
            return [.output(pipeline)]
        case "break":
            try c.expectEnd()
            return [.breakLoop]
        case "continue":
            try c.expectEnd()
            return [.continueLoop]
        case "else", "elsif", "endif", "endunless", "endfor", "endcase", "endcapture", "when":
            throw error(segment.offset, "{% \(tag) %} does not belong here: it has no opening tag")
        default:
            throw error(segment.offset, "unknown tag '\(tag)'; use if, unless, case, for, assign, capture, include, echo, raw or comment")
        }
    }
}

/// Reads expressions, pipelines and conditions from a tag's tokens.
struct TokenCursor {
    var tokens: [ExpressionToken]
    var index = 0
    let end: Int
    let parser: TemplateParser

    init(tokens: [ExpressionToken], end: Int, parser: TemplateParser) {
        self.tokens = tokens
        self.end = end
        self.parser = parser
    }

    var isAtEnd: Bool { index >= tokens.count }
    var peek: ExpressionToken? { isAtEnd ? nil : tokens[index] }
    var lastOffset: Int { index > 0 ? tokens[index - 1].offset : end }

    mutating func next() -> ExpressionToken? {
        defer { index += 1 }
        return peek
    }

    func unexpected(_ expected: String) -> TemplateSyntaxError {
        if let t = peek { return parser.error(t.offset, "expected \(expected)") }
        return parser.error(end, "expected \(expected) before the end of the tag")
    }

    mutating func expect(_ kind: ExpressionToken.Kind, _ what: String) throws(TemplateSyntaxError) {
        guard peek?.kind == kind else { throw unexpected(what) }
        index += 1
    }

    func expectEnd() throws(TemplateSyntaxError) {
        if let t = peek { throw parser.error(t.offset, "unexpected text here; the tag should end before it") }
    }

    mutating func skipComma() -> Bool {
        if peek?.kind == .comma || peek?.kind == .identifier("or") {
            index += 1
            return true
        }
        return false
    }

    mutating func expression() throws(TemplateSyntaxError) -> Expression {
        guard let t = next() else { throw unexpected("a value or a variable") }
        switch t.kind {
        case .string(let s): return .literal(.string(s))
        case .int(let i): return .literal(.int(i))
        case .double(let d): return .literal(.double(d))
        case .openParen:
            let from = try expression()
            try expect(.dotDot, "'..' in a range like (1..5)")
            let to = try expression()
            try expect(.closeParen, "')' to close the range")
            return .range(from, to)
        case .identifier(let name):
            switch name {
            case "true": return .literal(.bool(true))
            case "false": return .literal(.bool(false))
            case "nil", "null": return .literal(.null)
            case "empty", "blank": return .empty
            default: break
            }
            var path: [PathStep] = []
            while let p = peek {
                if p.kind == .dot {
                    index += 1
                    guard case .identifier(let key)? = next()?.kind else { throw parser.error(p.offset, "expected a field name after '.'") }
                    path.append(.key(key))
                } else if p.kind == .openBracket {
                    index += 1
                    let inner = try expression()
                    try expect(.closeBracket, "']'")
                    switch inner {
                    case .literal(.int(let i)): path.append(.index(i))
                    case .literal(.string(let k)): path.append(.key(k))
                    default: path.append(.dynamic(inner))
                    }
                } else {
                    break
                }
            }
            return .variable(parser.slots.slot(name), path)
        default:
            throw parser.error(t.offset, "expected a value or a variable")
        }
    }

    mutating func pipeline() throws(TemplateSyntaxError) -> Pipeline {
        var pipeline = Pipeline(expression: try expression(), filters: [])
        while peek?.kind == .pipe {
            index += 1
            guard let t = next(), case .identifier(let name) = t.kind else { throw unexpected("a filter name after '|'") }
            guard let function = parser.filters[name] else {
                throw parser.error(t.offset, "unknown filter '\(name)'")
            }
            var arguments: [Expression] = []
            if peek?.kind == .colon {
                index += 1
                repeat { arguments.append(try expression()) } while skipArgumentComma()
            }
            pipeline.filters.append(FilterCall(name: name, function: function, arguments: arguments))
        }
        return pipeline
    }

    private mutating func skipArgumentComma() -> Bool {
        if peek?.kind == .comma {
            index += 1
            return true
        }
        return false
    }

    /// `a == b and c or d`: Liquid groups `and`/`or` from the right, with no precedence between them.
    mutating func condition() throws(TemplateSyntaxError) -> Condition {
        let left = try comparison()
        if case .identifier(let word)? = peek?.kind, word == "and" || word == "or" {
            index += 1
            let right = try condition()
            return word == "and" ? .and(left, right) : .or(left, right)
        }
        return left
    }

    private mutating func comparison() throws(TemplateSyntaxError) -> Condition {
        let left = try expression()
        guard let t = peek else { return .truthy(left) }
        let op: Condition.Operator
        switch t.kind {
        case .op(let o):
            guard let known = Condition.Operator(rawValue: o) else { throw parser.error(t.offset, "'\(o)' assigns; compare with ==") }
            op = known
        case .identifier("contains"): op = .contains
        default: return .truthy(left)
        }
        index += 1
        return .compare(left, op, try expression())
    }
}
