/// One reply of an SMTP server (RFC 5321 §4.2): the three-digit code, the enhanced status code
/// (RFC 3463) when the server announced ENHANCEDSTATUSCODES, and the text of every line.
public struct SMTPReply: Sendable, Equatable, CustomStringConvertible {
    public var code: Int
    /// `5.1.1`, `4.7.0`… taken from the start of the first line's text when it has one.
    public var enhancedStatus: String?
    public var lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
        enhancedStatus = Self.enhancedStatus(in: lines.first ?? "", code: code)
    }

    /// 2xx and 3xx: the command was accepted (3xx: go on, as after DATA).
    public var isPositive: Bool { code < 400 }
    /// 4xx: try again later.
    public var isTransient: Bool { code >= 400 && code < 500 }
    /// 5xx: do not try again.
    public var isPermanent: Bool { code >= 500 }

    /// The lines' text joined by spaces.
    public var text: String { lines.joined(separator: " ") }

    public var description: String { "\(code) \(text)" }

    /// A status like `4.7.1` at the start of `line` whose class digit matches the reply code's.
    static func enhancedStatus(in line: String, code: Int) -> String? {
        let head = line.prefix { $0 != " " }
        let parts = head.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber) }),
              parts[0] == "\(code / 100)" else { return nil }
        return String(head)
    }
}
