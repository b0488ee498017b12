/// A template that cannot be compiled: where, what, and the line with a caret under the place.
public struct TemplateSyntaxError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The template or fragment the error is in.
    public let template: String
    public let line: Int
    public let column: Int
    public let message: String
    /// The source line, and a caret under the column.
    public let excerpt: String

    init(template: String, source: [UInt8], offset: Int, message: String) {
        self.template = template
        var line = 1, lineStart = 0
        var i = 0
        while i < min(offset, source.count) {
            if source[i] == UInt8(ascii: "\n") {
                line += 1
                lineStart = i + 1
            }
            i += 1
        }
        var lineEnd = lineStart
        while lineEnd < source.count && source[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
        let text = String(decoding: source[lineStart..<lineEnd], as: UTF8.self)
        let column = String(decoding: source[lineStart..<min(offset, lineEnd)], as: UTF8.self).count + 1
        self.line = line
        self.column = column
        self.message = message
        self.excerpt = text + "\n" + String(repeating: " ", count: column - 1) + "^"
    }

    public var description: String { "\(template):\(line):\(column): \(message)\n\(excerpt)" }
}

/// A recipient's render that stopped: a limit was reached or a value could not be used.
/// It fails that recipient only, with this reason.
public struct TemplateRenderError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable {
        case loopLimit, outputLimit, timeLimit, invalidValue
    }

    public let kind: Kind
    public let message: String

    public var description: String { message }
}
