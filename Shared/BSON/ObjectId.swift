import Foundation
import Synchronization

/// A 12-byte MongoDB ObjectId: a 4-byte timestamp, a 5-byte random process value and a 3-byte counter.
public struct ObjectId: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    /// The 12 bytes, in the order they are stored.
    public let bytes: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)

    private static let processUnique: (UInt8, UInt8, UInt8, UInt8, UInt8) = {
        var g = SystemRandomNumberGenerator()
        return (g.next(), g.next(), g.next(), g.next(), g.next())
    }()
    private static let counter = Atomic<UInt32>(UInt32.random(in: 0..<0xFF_FFFF))

    /// A new, unique ObjectId stamped with the current time.
    public init() {
        self.init(date: Date())
    }

    /// A new, unique ObjectId stamped with the given time.
    public init(date: Date) {
        let t = UInt32(truncatingIfNeeded: Int64(date.timeIntervalSince1970))
        let c = Self.counter.wrappingAdd(1, ordering: .relaxed).newValue & 0xFF_FFFF
        let p = Self.processUnique
        bytes = (
            UInt8(t >> 24), UInt8((t >> 16) & 0xFF), UInt8((t >> 8) & 0xFF), UInt8(t & 0xFF),
            p.0, p.1, p.2, p.3, p.4,
            UInt8(c >> 16), UInt8((c >> 8) & 0xFF), UInt8(c & 0xFF)
        )
    }

    /// The ObjectId with these 12 bytes.
    public init(bytes: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)) {
        self.bytes = bytes
    }

    package init<C: Collection>(byteSequence b: C) where C.Element == UInt8, C.Index == Int {
        let s = b.startIndex
        bytes = (b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7], b[s + 8], b[s + 9], b[s + 10], b[s + 11])
    }

    /// Parses the 24-character hexadecimal form; `nil` when the text is not one.
    public init?(_ hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 24 else { return nil }
        var out = [UInt8](repeating: 0, count: 12)
        for i in 0..<12 {
            guard let hi = Self.nibble(utf8[2 * i]), let lo = Self.nibble(utf8[2 * i + 1]) else { return nil }
            out[i] = hi << 4 | lo
        }
        self.init(byteSequence: out)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The 12 bytes as an array.
    public var byteArray: [UInt8] {
        withUnsafeBytes(of: bytes) { Array($0) }
    }

    /// The time encoded in the first four bytes.
    public var date: Date {
        let b = byteArray
        let t = UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])
        return Date(timeIntervalSince1970: TimeInterval(t))
    }

    /// The 24-character lowercase hexadecimal form.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(24)
        for b in byteArray {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { hex }

    public static func == (l: ObjectId, r: ObjectId) -> Bool { l.byteArray == r.byteArray }
    public func hash(into hasher: inout Hasher) { withUnsafeBytes(of: bytes) { hasher.combine(bytes: $0) } }
    public static func < (l: ObjectId, r: ObjectId) -> Bool { l.byteArray.lexicographicallyPrecedes(r.byteArray) }

    /// Outside BSON (JSON, logs) an ObjectId is its hexadecimal string.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let id = ObjectId(s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(s)' is not a 24-character hexadecimal ObjectId")
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(hex)
    }
}
