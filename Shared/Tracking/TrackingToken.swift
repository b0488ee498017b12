import Crypto
import Foundation

/// What a tracking URL or a VERP address carries, signed with HMAC-SHA256 (the MAC truncated to
/// 16 bytes) so that nobody can forge one: the account, the profile database, the message (one
/// recipient's copy of a sending), the profile — and, for a click, the link's index and its
/// address; for an unsubscribe or a bounce, the subscription (channel, address, resource). A
/// click token carries its destination, so the tracker redirects without a look-up, and only to
/// an address Herald itself signed: never an open redirect.
public struct TrackingToken: Sendable, Equatable {
    public enum Kind: UInt8, Sendable {
        case click = 0x63, open = 0x6F, unsubscribe = 0x75, webVersion = 0x77, bounce = 0x62
        /// A site's key for its tracking snippet: the account and the profile database only.
        case site = 0x73
        /// Who clicked: added to a tracked link's destination (`hrld=`), so that the site's snippet
        /// can tie its visitor to the profile (account, database, message, profile).
        case identify = 0x69
    }

    public var kind: Kind
    public var accountId: String
    public var databaseId: String
    public var messageId: String
    public var profileId: String
    /// Click: the link's index in the message.
    public var linkIndex: Int
    /// Click: where the link goes.
    public var url: String
    /// Unsubscribe and bounce: the subscription's channel, address and resource.
    public var channel: String
    public var address: String
    public var resource: String

    public init(kind: Kind, accountId: String, databaseId: String, messageId: String, profileId: String, linkIndex: Int = 0, url: String = "",
                channel: String = "", address: String = "", resource: String = "")
    {
        self.kind = kind
        self.accountId = accountId
        self.databaseId = databaseId
        self.messageId = messageId
        self.profileId = profileId
        self.linkIndex = linkIndex
        self.url = url
        self.channel = channel
        self.address = address
        self.resource = resource
    }
}

/// Makes and checks ``TrackingToken``s with the installation's secret (`tracking.secret`). The
/// key id byte lets a new secret be introduced while links signed with the old one still work.
public struct TrackingSigner: Sendable {
    let keys: [UInt8: SymmetricKey]
    let current: UInt8

    /// Why a token was refused.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// `secrets` by key id; `current` signs new tokens.
    public init(secrets: [UInt8: String], current: UInt8) {
        keys = secrets.mapValues { SymmetricKey(data: SHA256.hash(data: Data($0.utf8))) }
        self.current = current
    }

    public init(secret: String) { self.init(secrets: [1: secret], current: 1) }

    static let macLength = 16

    public func encode(_ token: TrackingToken) -> String {
        var bytes: [UInt8] = [1, current, token.kind.rawValue]
        for id in [token.accountId, token.databaseId, token.messageId, token.profileId] { Self.appendId(id, to: &bytes) }
        switch token.kind {
        case .click:
            bytes.append(UInt8(token.linkIndex >> 8 & 0xFF))
            bytes.append(UInt8(token.linkIndex & 0xFF))
            bytes.append(contentsOf: token.url.utf8)
        case .unsubscribe, .bounce:
            for text in [token.channel, token.address, token.resource] { Self.appendText(text, to: &bytes) }
        case .open, .webVersion, .site, .identify:
            break
        }
        let mac = HMAC<SHA256>.authenticationCode(for: bytes, using: keys[current]!)
        bytes.append(contentsOf: Array(mac).prefix(Self.macLength))
        return Self.base64URL(bytes)
    }

    public func decode(_ text: String) throws(Refusal) -> TrackingToken {
        // Only the canonical encoding (checked while decoding): a token that decodes to the same
        // bytes under another spelling is not one Herald made.
        guard text.utf8.count <= 8192, let bytes = Self.bytes(base64URL: text), bytes.count > 3 + Self.macLength else {
            throw Refusal(description: "not a tracking token")
        }
        let body = Array(bytes.dropLast(Self.macLength)), mac = Array(bytes.suffix(Self.macLength))
        guard body[0] == 1, let key = keys[body[1]] else { throw Refusal(description: "a token of an unknown version or key") }
        let expected = Array(HMAC<SHA256>.authenticationCode(for: body, using: key)).prefix(Self.macLength)
        // Constant time: every byte compared whatever the first difference.
        guard zip(expected, mac).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0 else { throw Refusal(description: "the token's signature is wrong") }
        guard let kind = TrackingToken.Kind(rawValue: body[2]) else { throw Refusal(description: "a token of an unknown kind") }
        var reader = Reader(bytes: body, offset: 3)
        guard let account = reader.id(), let database = reader.id(), let message = reader.id(), let profile = reader.id() else {
            throw Refusal(description: "a token cut short")
        }
        var token = TrackingToken(kind: kind, accountId: account, databaseId: database, messageId: message, profileId: profile)
        switch kind {
        case .click:
            guard let high = reader.byte(), let low = reader.byte() else { throw Refusal(description: "a token cut short") }
            token.linkIndex = Int(high) << 8 | Int(low)
            token.url = String(decoding: reader.rest(), as: UTF8.self)
        case .unsubscribe, .bounce:
            guard let channel = reader.text(), let address = reader.text(), let resource = reader.text() else { throw Refusal(description: "a token cut short") }
            (token.channel, token.address, token.resource) = (channel, address, resource)
        case .open, .webVersion, .site, .identify:
            break
        }
        return token
    }

    /// An id: 24 hex digits as 12 bytes (marked 0x00), anything else as text (marked 0x01).
    static func appendId(_ id: String, to bytes: inout [UInt8]) {
        if id.utf8.count == 24, let raw = hexBytes(id) {
            bytes.append(0)
            bytes.append(contentsOf: raw)
        } else {
            bytes.append(1)
            appendText(id, to: &bytes)
        }
    }

    static func appendText(_ text: String, to bytes: inout [UInt8]) {
        let utf8 = Array(text.utf8.prefix(65_535))
        bytes.append(UInt8(utf8.count >> 8))
        bytes.append(UInt8(utf8.count & 0xFF))
        bytes.append(contentsOf: utf8)
    }

    struct Reader {
        let bytes: [UInt8]
        var offset: Int

        mutating func byte() -> UInt8? {
            guard offset < bytes.count else { return nil }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func text() -> String? {
            guard let high = byte(), let low = byte() else { return nil }
            let count = Int(high) << 8 | Int(low)
            guard offset + count <= bytes.count else { return nil }
            defer { offset += count }
            return String(decoding: bytes[offset..<offset + count], as: UTF8.self)
        }

        mutating func id() -> String? {
            switch byte() {
            case 0?:
                guard offset + 12 <= bytes.count else { return nil }
                defer { offset += 12 }
                return bytes[offset..<offset + 12].map { String(format: "%02x", $0) }.joined()
            case 1?: return text()
            default: return nil
            }
        }

        func rest() -> ArraySlice<UInt8> { bytes[offset...] }
    }

    static func hexBytes(_ hex: String) -> [UInt8]? {
        var out: [UInt8] = []
        var iterator = hex.utf8.makeIterator()
        while let a = iterator.next() {
            guard let b = iterator.next(), let high = nibble(a), let low = nibble(b) else { return nil }
            out.append(high << 4 | low)
        }
        return out
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, c) in alphabet.enumerated() { table[Int(c)] = UInt8(index) }
        return table
    }()

    /// base64url without padding (RFC 4648 §5), straight over the bytes (tokens are read on every
    /// click, so no Foundation string work here).
    static func base64URL(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var i = 0
        while i + 2 < bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            i += 3
        }
        if bytes.count - i == 1 {
            let n = UInt32(bytes[i]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)]]
        } else if bytes.count - i == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)]]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of base64url text without padding; nil for anything else, or for a spelling that
    /// is not canonical (unused bits of the last character set).
    static func bytes(base64URL text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 4 != 1 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(chars.count * 3 / 4)
        var buffer: UInt32 = 0, bits = 0
        for c in chars {
            let v = values[Int(c)]
            guard v != 0xFF else { return nil }
            buffer = buffer << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(buffer >> UInt32(bits) & 0xFF))
            }
        }
        guard buffer & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return out
    }
}
