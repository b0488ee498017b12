/// Splits the inside of `{{ … }}` and `{% … %}` into tokens.
struct ExpressionToken: Equatable {
    enum Kind: Equatable {
        case identifier(String)
        case string(String)
        case int(Int)
        case double(Double)
        case dot, dotDot, openBracket, closeBracket, openParen, closeParen, pipe, colon, comma
        case op(String)
    }

    var kind: Kind
    /// Offset in the template source, for errors.
    var offset: Int
}

enum ExpressionTokenizer {
    static func tokenize(_ s: ArraySlice<UInt8>, error: (Int, String) -> TemplateSyntaxError) throws(TemplateSyntaxError) -> [ExpressionToken] {
        var tokens: [ExpressionToken] = []
        var i = s.startIndex
        func isIdentStart(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c == 95 }
        func isIdent(_ c: UInt8) -> Bool { isIdentStart(c) || (c >= 48 && c <= 57) || c == 45 || c == 63 }
        func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
        while i < s.endIndex {
            let c = s[i]
            switch c {
            case 32, 9, 10, 13:
                i += 1
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                let start = i
                i += 1
                while i < s.endIndex && s[i] != c { i += 1 }
                guard i < s.endIndex else { throw error(start, "this string is not closed; add the closing \(c == 34 ? "\"" : "'")") }
                tokens.append(.init(kind: .string(String(decoding: s[(start + 1)..<i], as: UTF8.self)), offset: start))
                i += 1
            case UInt8(ascii: "."):
                if i + 1 < s.endIndex && s[i + 1] == UInt8(ascii: ".") {
                    tokens.append(.init(kind: .dotDot, offset: i))
                    i += 2
                } else {
                    tokens.append(.init(kind: .dot, offset: i))
                    i += 1
                }
            case UInt8(ascii: "["): tokens.append(.init(kind: .openBracket, offset: i)); i += 1
            case UInt8(ascii: "]"): tokens.append(.init(kind: .closeBracket, offset: i)); i += 1
            case UInt8(ascii: "("): tokens.append(.init(kind: .openParen, offset: i)); i += 1
            case UInt8(ascii: ")"): tokens.append(.init(kind: .closeParen, offset: i)); i += 1
            case UInt8(ascii: "|"): tokens.append(.init(kind: .pipe, offset: i)); i += 1
            case UInt8(ascii: ":"): tokens.append(.init(kind: .colon, offset: i)); i += 1
            case UInt8(ascii: ","): tokens.append(.init(kind: .comma, offset: i)); i += 1
            case UInt8(ascii: "="), UInt8(ascii: "!"), UInt8(ascii: "<"), UInt8(ascii: ">"):
                let start = i
                i += 1
                if i < s.endIndex && s[i] == UInt8(ascii: "=") { i += 1 }
                let op = String(decoding: s[start..<i], as: UTF8.self)
                guard ["=", "==", "!=", "<", ">", "<=", ">="].contains(op) else { throw error(start, "'\(op)' is not an operator; use ==, !=, <, >, <= or >=") }
                tokens.append(.init(kind: .op(op), offset: start))
            case UInt8(ascii: "-") where i + 1 < s.endIndex && isDigit(s[i + 1]), _ where isDigit(c):
                let start = i
                i += 1
                while i < s.endIndex && isDigit(s[i]) { i += 1 }
                var isDouble = false
                if i + 1 < s.endIndex && s[i] == UInt8(ascii: ".") && isDigit(s[i + 1]) {
                    isDouble = true
                    i += 1
                    while i < s.endIndex && isDigit(s[i]) { i += 1 }
                }
                let text = String(decoding: s[start..<i], as: UTF8.self)
                if isDouble {
                    tokens.append(.init(kind: .double(Double(text) ?? 0), offset: start))
                } else {
                    guard let n = Int(text) else { throw error(start, "the number \(text) is too large") }
                    tokens.append(.init(kind: .int(n), offset: start))
                }
            case _ where isIdentStart(c):
                let start = i
                while i < s.endIndex && isIdent(s[i]) { i += 1 }
                tokens.append(.init(kind: .identifier(String(decoding: s[start..<i], as: UTF8.self)), offset: start))
            default:
                throw error(i, "unexpected character '\(String(decoding: [c], as: UTF8.self))'")
            }
        }
        return tokens
    }
}
