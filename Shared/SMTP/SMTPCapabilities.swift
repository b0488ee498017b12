/// What a server announced in its EHLO reply (RFC 5321 §4.1.1.1), as far as a sender cares.
public struct SMTPCapabilities: Sendable, Equatable {
    public var pipelining = false
    public var startTLS = false
    public var eightBitMIME = false
    public var smtpUTF8 = false
    public var enhancedStatusCodes = false
    /// The SIZE limit in bytes; 0 when the server announced SIZE without one (no limit).
    public var maximumSize: Int?
    /// AUTH mechanisms, upper case.
    public var authentication: Set<String> = []

    public init() {}

    /// Reads the EHLO reply's lines after the first (the greeting line names the server).
    public init(ehlo reply: SMTPReply) {
        for line in reply.lines.dropFirst() {
            let words = line.uppercased().split(separator: " ")
            guard let keyword = words.first else { continue }
            switch keyword {
            case "PIPELINING": pipelining = true
            case "STARTTLS": startTLS = true
            case "8BITMIME": eightBitMIME = true
            case "SMTPUTF8": smtpUTF8 = true
            case "ENHANCEDSTATUSCODES": enhancedStatusCodes = true
            case "SIZE": maximumSize = words.count > 1 ? Int(words[1]) ?? 0 : 0
            case "AUTH": authentication.formUnion(words.dropFirst().map(String.init))
            default: break
            }
        }
    }
}
