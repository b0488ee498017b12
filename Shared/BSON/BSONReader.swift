/// Reads BSON elements from raw bytes. Offsets are checked against the end of the document,
/// so a truncated or corrupt input throws instead of reading past it.
package struct BSONReader {
    package let base: UnsafeRawBufferPointer

    @inline(__always) package init(_ base: UnsafeRawBufferPointer) { self.base = base }

    @inline(__always) package func int32(at o: Int) -> Int32 {
        Int32(littleEndian: base.loadUnaligned(fromByteOffset: o, as: Int32.self))
    }

    @inline(__always) package func int64(at o: Int) -> Int64 {
        Int64(littleEndian: base.loadUnaligned(fromByteOffset: o, as: Int64.self))
    }

    @inline(__always) package func uint64(at o: Int) -> UInt64 {
        UInt64(littleEndian: base.loadUnaligned(fromByteOffset: o, as: UInt64.self))
    }

    @inline(__always) package func double(at o: Int) -> Double {
        Double(bitPattern: uint64(at: o))
    }

    /// The offset of the NUL that ends the C string at `o`.
    @inline(__always) package func cStringEnd(from o: Int, limit: Int) throws(BSONError) -> Int {
        var i = o
        while i < limit {
            if base[i] == 0 { return i }
            i += 1
        }
        throw BSONError("unterminated key or C string at byte \(o)")
    }

    @inline(__always) package func string(from o: Int, count: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: base[o..<(o + count)]), as: UTF8.self)
    }

    /// Reads a BSON string value at `o` (length-prefixed).
    @inline(__always) package func stringValue(at o: Int, limit: Int) throws(BSONError) -> String {
        guard o + 4 <= limit else { throw BSONError("truncated string at byte \(o)") }
        let n = Int(int32(at: o))
        guard n >= 1, o + 4 + n <= limit, base[o + 4 + n - 1] == 0 else {
            throw BSONError("string at byte \(o) has a bad length \(n)")
        }
        return string(from: o + 4, count: n - 1)
    }

    /// The number of bytes of a value of `type` starting at `o`.
    package func valueSize(_ type: UInt8, at o: Int, limit: Int) throws(BSONError) -> Int {
        let size: Int
        switch type {
        case 0x01, 0x09, 0x11, 0x12: size = 8
        case 0x10: size = 4
        case 0x08: size = 1
        case 0x07: size = 12
        case 0x13: size = 16
        case 0x06, 0x0A, 0xFF, 0x7F: size = 0
        case 0x02, 0x0D, 0x0E:
            guard o + 4 <= limit else { throw BSONError("truncated string at byte \(o)") }
            let n = Int(int32(at: o))
            guard n >= 1 else { throw BSONError("string at byte \(o) has a bad length \(n)") }
            size = 4 + n
        case 0x03, 0x04, 0x0F:
            guard o + 4 <= limit else { throw BSONError("truncated document at byte \(o)") }
            size = Int(int32(at: o))
            guard size >= 5 else { throw BSONError("document at byte \(o) has a bad length \(size)") }
        case 0x05:
            guard o + 4 <= limit else { throw BSONError("truncated binary at byte \(o)") }
            let n = Int(int32(at: o))
            guard n >= 0 else { throw BSONError("binary at byte \(o) has a bad length \(n)") }
            size = 5 + n
        case 0x0B:
            let p = try cStringEnd(from: o, limit: limit)
            let q = try cStringEnd(from: p + 1, limit: limit)
            size = q + 1 - o
        case 0x0C:
            guard o + 4 <= limit else { throw BSONError("truncated dbPointer at byte \(o)") }
            size = 4 + Int(int32(at: o)) + 12
        default:
            throw BSONError("unknown element type 0x\(String(type, radix: 16)) at byte \(o - 1)")
        }
        guard o + size <= limit else { throw BSONError("value at byte \(o) runs past the end of its document") }
        return size
    }

    /// Decodes the value of `type` at `o` into a `BSONValue`.
    package func value(_ type: UInt8, at o: Int, limit: Int) throws(BSONError) -> BSONValue {
        let size = try valueSize(type, at: o, limit: limit)
        switch type {
        case 0x01: return .double(double(at: o))
        case 0x02: return .string(try stringValue(at: o, limit: limit))
        case 0x0D: return .javascript(try stringValue(at: o, limit: limit))
        case 0x0E: return .symbol(try stringValue(at: o, limit: limit))
        case 0x03: return .document(try BSONDocument(validating: Array(base[o..<(o + size)])))
        case 0x04: return .array(try BSONDocument(validating: Array(base[o..<(o + size)])).values)
        case 0x05:
            return .binary(BSONBinary(subtype: .init(rawValue: base[o + 4]), bytes: Array(base[(o + 5)..<(o + size)])))
        case 0x06: return .undefined
        case 0x07: return .objectId(ObjectId(byteSequence: UnsafeRawBufferPointer(rebasing: base[o..<(o + 12)])))
        case 0x08: return .bool(base[o] != 0)
        case 0x09: return .datetime(int64(at: o))
        case 0x0A: return .null
        case 0x0B:
            let p = try cStringEnd(from: o, limit: limit)
            let q = try cStringEnd(from: p + 1, limit: limit)
            return .regularExpression(.init(pattern: string(from: o, count: p - o), options: string(from: p + 1, count: q - p - 1)))
        case 0x10: return .int32(int32(at: o))
        case 0x11:
            let v = uint64(at: o)
            return .timestamp(.init(seconds: UInt32(v >> 32), increment: UInt32(v & 0xFFFF_FFFF)))
        case 0x12: return .int64(int64(at: o))
        case 0x13: return .decimal128(.init(low: uint64(at: o), high: uint64(at: o + 8)))
        case 0xFF: return .minKey
        case 0x7F: return .maxKey
        default: throw BSONError("element type 0x\(String(type, radix: 16)) at byte \(o - 1) is deprecated and not supported")
        }
    }
}
