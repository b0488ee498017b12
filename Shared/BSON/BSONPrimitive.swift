import Foundation

/// A type that ``BSONEncoder`` and ``BSONDecoder`` write and read as one BSON value directly,
/// without going through its `Codable` implementation.
package protocol BSONPrimitive {
    /// The BSON type this value is written as.
    var bsonType: BSONType { get }
    /// Writes the value's bytes (everything after the element's key).
    func writeBSONBody(to w: inout BSONWriter) throws(BSONError)
    /// Reads a value of BSON `type` at `offset`; `nil` when that type cannot become `Self`.
    static func readBSON(_ r: BSONReader, type: UInt8, at offset: Int, limit: Int) throws(BSONError) -> Self?
    /// What a value must be to decode as `Self`, for error messages.
    static var bsonExpectation: String { get }
}

// MARK: Text and numbers

extension String: BSONPrimitive {
    package var bsonType: BSONType { .string }
    package func writeBSONBody(to w: inout BSONWriter) { w.append(string: self) }
    package static func readBSON(_ r: BSONReader, type: UInt8, at o: Int, limit: Int) throws(BSONError) -> String? {
        guard type == 0x02 || type == 0x0E else { return nil }
        return try r.stringValue(at: o, limit: limit)
    }
    package static var bsonExpectation: String { "a string" }
}

extension Bool: BSONPrimitive {
    package var bsonType: BSONType { .bool }
    package func writeBSONBody(to w: inout BSONWriter) { w.append(self ? 1 : 0) }
    package static func readBSON(_ r: BSONReader, type: UInt8, at o: Int, limit: Int) throws(BSONError) -> Bool? {
        guard type == 0x08 else { return nil }
        guard o < limit else { throw BSONError("truncated bool at byte \(o)") }
        return r.base[o] != 0
    }
    package static var bsonExpectation: String { "a bool" }
}

extension Double: BSONPrimitive {
    package var bsonType: BSONType { .double }
    package func writeBSONBody(to w: inout BSONWriter) { w.append(double: self) }
    package static func readBSON(_ r: BSONReader, type: UInt8, at o: Int, limit: Int) throws(BSONError) -> Double? {
        switch type {
        case 0x01:
            guard o + 8 <= limit else { throw BSONError("truncated double at byte \(o)") }
            return r.double(at: o)
        case 0x10:
            guard o + 4 <= limit else { throw BSONError("truncated int32 at byte \(o)") }
            return Double(r.int32(at: o))
        case 0x12:
            guard o + 8 <= limit else { throw BSONError("truncated int64 at byte \(o)") }
            return Double(r.int64(at: o))
        default: return nil
        }
    }
    package static var bsonExpectation: String { "a number" }
}

extension Float: BSONPrimitive {
    package var bsonType: BSONType { .double }
    package func writeBSONBody(to w: inout BSONWriter) { w.append(double: Double(self)) }
    package static func readBSON(_ r: BSONReader, type: UInt8, at o: Int, limit: Int) throws(BSONError) -> Float? {
        try Double.readBSON(r, type: type, at: o, limit: limit).map(Float.init)
    }
    package static var bsonExpectation: String { "a number" }
}

/// Reads any BSON integer, or a double with no fractional part, as an Int64.
@inline(__always)
private func readInteger(_ r: BSONReader, type: UInt8, at o: Int, limit: Int) throws(BSONError) -> Int64? {
    switch type {
    case 0x10:
        guard o + 4 <= limit else { throw BSONError("truncated int32 at byte \(o)") }
        return Int64(r.int32(at: o))
    case 0x12:
        guard o + 8 <= limit else { throw BSONError("truncated int64 at byte \(o)") }
        return r.int64(at: o)
    case 0x01:
        guard o + 8 <= limit else { throw BSONError("truncated double at byte \(o)") }
        return Int64(exactly: r.double(at: o))
    default: return nil
    }
}

/// Integers up to 32 bits are written as int32; wider ones as int64.
package protocol BSONInteger: BSONPrimitive, FixedWidthInteger {}

extension BSONInteger {
    package var bsonType: BSONType { Self.bitWidth <= 16 || Self.self == Int32.self ? .int32 : .int64 }
    package func writeBSONBody(to w: inout BSONWriter) throws(BSONError) {
        if Self.bitWidth <= 16 || Self.self == Int32.self {
            w.append(int32: Int32(truncatingIfNeeded: self))
        } else {
            guard let v = Int64(exactly: self) else {
                throw BSONError("the integer \(self) does not fit BSON's int64")
            }
            w.append(int64: v)
        }
    }
    package static func readBSON(_ r: BSONReader, type: UInt8, at o: Int, limit: Int) throws(BSONError) -> Self? {
        guard let v = try readInteger(r, type: type, at: o, limit: limit) else { return nil }
        return Self(exactly: v)
    }
    package static var bsonExpectation: String { "an integer that fits \(Self.self)" }
}

extension Int: BSONInteger {}
extension Int8: BSONInteger {}
extension Int16: BSONInteger {}
extension Int32: BSONInteger {}
extension Int64: BSONInteger {}
extension UInt: BSONInteger {}
extension UInt8: BSONInteger {}
extension UInt16: BSONInteger {}
extension UInt32: BSONInteger {}
extension UInt64: BSONInteger {}

// MARK: Foundation and BSON types

extension Date: BSONPrimitive {
    package var bsonType: BSONType { .datetime }
    package func writeBSONBody(to w: inout BSONWriter) {
        w.append(int64: Int64((timeIntervalSince1970 * 1000).rounded(.down)))
    }
    package static func readBSON(_ r: BSONReader, type: UInt8, at o: Int, limit: Int) throws(BSONError) -> Date? {
        guard type == 0x09 else { return nil }
        guard o + 8 <= limit else { throw BSONError("truncated datetime at byte \(o)") }
        return Date(timeIntervalSince1970: Double(r.int64(at: o)) / 1000)
    }
    package static var bsonExpectation: String { "a datetime" }
}

extension Data: BSONPrimitive {
    package var bsonType: BSONType { .binary }
    package func writeBSONBody(to w: inout BSONWriter) {
        w.append(int32: Int32(count))
        w.append(BSONBinary.Subtype.generic.rawValue)
        w.bytes.append(contentsOf: self)
    }
    package static func readBSON(_ r: BSONReader, type: UInt8, at o: Int, limit: Int) throws(BSONError) -> Data? {
        guard type == 0x05 else { return nil }
        let size = try r.valueSize(type, at: o, limit: limit)
        return Data(UnsafeRawBufferPointer(rebasing: r.base[(o + 5)..<(o + size)]))
    }
    package static var bsonExpectation: String { "binary data" }
}

extension UUID: BSONPrimitive {
    package var bsonType: BSONType { .binary }
    package func writeBSONBody(to w: inout BSONWriter) {
        w.append(int32: 16)
        w.append(BSONBinary.Subtype.uuid.rawValue)
        withUnsafeBytes(of: uuid) { w.bytes.append(contentsOf: $0) }
    }
    package static func readBSON(_ r: BSONReader, type: UInt8, at o: Int, limit: Int) throws(BSONError) -> UUID? {
        guard type == 0x05 else { return nil }
        let size = try r.valueSize(type, at: o, limit: limit)
        guard size == 21, r.base[o + 4] == 0x04 || r.base[o + 4] == 0x03 else { return nil }
        let b = r.base
        let s = o + 5
        return UUID(uuid: (b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6], b[s + 7],
                           b[s + 8], b[s + 9], b[s + 10], b[s + 11], b[s + 12], b[s + 13], b[s + 14], b[s + 15]))
    }
    package static var bsonExpectation: String { "a UUID (binary subtype 4)" }
}

extension Decimal: BSONPrimitive {
    package var bsonType: BSONType { .decimal128 }
    package func writeBSONBody(to w: inout BSONWriter) {
        Decimal128(self).writeBSONBody(to: &w)
    }
    package static func readBSON(_ r: BSONReader, type: UInt8, at o: Int, limit: Int) throws(BSONError) -> Decimal? {
        switch type {
        case 0x13: return try Decimal128.readBSON(r, type: type, at: o, limit: limit)?.decimalValue
        case 0x10, 0x12: return try readInteger(r, type: type, at: o, limit: limit).map { Decimal($0) }
        default: return nil
        }
    }
    package static var bsonExpectation: String { "a decimal128 or an integer" }
}

extension ObjectId: BSONPrimitive {
    package var bsonType: BSONType { .objectId }
    package func writeBSONBody(to w: inout BSONWriter) {
        withUnsafeBytes(of: bytes) { w.bytes.append(contentsOf: $0) }
    }
    package static func readBSON(_ r: BSONReader, type: UInt8, at o: Int, limit: Int) throws(BSONError) -> ObjectId? {
        guard type == 0x07 else { return nil }
        guard o + 12 <= limit else { throw BSONError("truncated ObjectId at byte \(o)") }
        return ObjectId(byteSequence: UnsafeRawBufferPointer(rebasing: r.base[o..<(o + 12)]))
    }
    package static var bsonExpectation: String { "an ObjectId" }
}

extension Decimal128: BSONPrimitive {
    package var bsonType: BSONType { .decimal128 }
    package func writeBSONBody(to w: inout BSONWriter) {
        w.append(uint64: low)
        w.append(uint64: high)
    }
    package static func readBSON(_ r: BSONReader, type: UInt8, at o: Int, limit: Int) throws(BSONError) -> Decimal128? {
        guard type == 0x13 else { return nil }
        guard o + 16 <= limit else { throw BSONError("truncated decimal128 at byte \(o)") }
        return Decimal128(low: r.uint64(at: o), high: r.uint64(at: o + 8))
    }
    package static var bsonExpectation: String { "a decimal128" }
}

extension BSONDocument: BSONPrimitive {
    package var bsonType: BSONType { .document }
    package func writeBSONBody(to w: inout BSONWriter) { w.bytes.append(contentsOf: storage) }
    package static func readBSON(_ r: BSONReader, type: UInt8, at o: Int, limit: Int) throws(BSONError) -> BSONDocument? {
        guard type == 0x03 || type == 0x04 else { return nil }
        let size = try r.valueSize(type, at: o, limit: limit)
        return try BSONDocument(validating: Array(r.base[o..<(o + size)]))
    }
    package static var bsonExpectation: String { "a document" }
}

extension BSONValue: BSONPrimitive {
    package var bsonType: BSONType { type }
    package func writeBSONBody(to w: inout BSONWriter) throws(BSONError) { try w.appendBody(of: self) }
    package static func readBSON(_ r: BSONReader, type: UInt8, at o: Int, limit: Int) throws(BSONError) -> BSONValue? {
        try r.value(type, at: o, limit: limit)
    }
    package static var bsonExpectation: String { "any BSON value" }
}

extension BSONBinary: BSONPrimitive {
    package var bsonType: BSONType { .binary }
    package func writeBSONBody(to w: inout BSONWriter) throws(BSONError) { try w.appendBody(of: .binary(self)) }
    package static func readBSON(_ r: BSONReader, type: UInt8, at o: Int, limit: Int) throws(BSONError) -> BSONBinary? {
        guard type == 0x05, case .binary(let b) = try r.value(type, at: o, limit: limit) else { return nil }
        return b
    }
    package static var bsonExpectation: String { "binary data" }
}

extension BSONTimestamp: BSONPrimitive {
    package var bsonType: BSONType { .timestamp }
    package func writeBSONBody(to w: inout BSONWriter) throws(BSONError) { try w.appendBody(of: .timestamp(self)) }
    package static func readBSON(_ r: BSONReader, type: UInt8, at o: Int, limit: Int) throws(BSONError) -> BSONTimestamp? {
        guard type == 0x11, case .timestamp(let t) = try r.value(type, at: o, limit: limit) else { return nil }
        return t
    }
    package static var bsonExpectation: String { "a timestamp" }
}

extension BSONRegularExpression: BSONPrimitive {
    package var bsonType: BSONType { .regularExpression }
    package func writeBSONBody(to w: inout BSONWriter) throws(BSONError) { try w.appendBody(of: .regularExpression(self)) }
    package static func readBSON(_ r: BSONReader, type: UInt8, at o: Int, limit: Int) throws(BSONError) -> BSONRegularExpression? {
        guard type == 0x0B, case .regularExpression(let x) = try r.value(type, at: o, limit: limit) else { return nil }
        return x
    }
    package static var bsonExpectation: String { "a regular expression" }
}

// MARK: Arrays of primitives

/// `[String]`, `[Int]`, … are written and read in one go rather than element by element through
/// an unkeyed container. Reading returns nil on any element of another type, so that the caller
/// falls back to the element-wise path, whose error names the element.
extension Array: BSONPrimitive where Element: BSONPrimitive {
    package var bsonType: BSONType { .array }

    package func writeBSONBody(to w: inout BSONWriter) throws(BSONError) {
        let start = w.openDocument()
        // Indexes, not `enumerated()`: its (offset, element) tuple needs metadata per step here.
        for i in 0..<count {
            let element = self[i]
            w.append(element.bsonType.rawValue)
            BSONWriter.appendIndexKey(i, to: &w.bytes)
            try element.writeBSONBody(to: &w)
        }
        w.closeDocument(startedAt: start)
    }

    package static func readBSON(_ r: BSONReader, type: UInt8, at o: Int, limit: Int) throws(BSONError) -> [Element]? {
        guard type == 0x04 else { return nil }
        let size = try r.valueSize(type, at: o, limit: limit)
        let end = o + size - 1
        var result: [Element] = []
        result.reserveCapacity(8)
        var p = o + 4
        while p < end {
            let elementType = r.base[p]
            let value = try r.cStringEnd(from: p + 1, limit: end) + 1
            let elementSize = try r.valueSize(elementType, at: value, limit: end)
            guard let element = try Element.readBSON(r, type: elementType, at: value, limit: end) else { return nil }
            result.append(element)
            p = value + elementSize
        }
        return result
    }

    package static var bsonExpectation: String { "an array of \(Element.bsonExpectation)" }
}
