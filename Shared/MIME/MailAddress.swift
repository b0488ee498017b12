/// An address with an optional display name, as it appears in From, To and Reply-To.
public struct MailAddress: Sendable, Equatable, CustomStringConvertible {
    public var name: String?
    public var address: String

    public init(_ address: String, name: String? = nil) {
        self.address = address
        self.name = name
    }

    /// The header form: `"Shop" <news@shop.example>`, with the name encoded when it is not ASCII.
    public var headerValue: String {
        guard let name, !name.isEmpty else { return address }
        if name.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 32 }) {
            let escaped = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\"\(escaped)\" <\(address)>"
        }
        return HeaderEncoding.encodedWords(name).joined(separator: " ") + " <\(address)>"
    }

    public var description: String { headerValue }
}
