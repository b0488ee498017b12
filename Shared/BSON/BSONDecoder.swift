#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Decodes `Decodable` values straight from BSON bytes.
///
/// Numbers convert where no information is lost: an `Int` property reads an int32, an int64 or a
/// double with no fraction; a `Double` reads any number. Everything else must match its BSON type;
/// a mismatch throws `DecodingError.typeMismatch` with the coding path and the BSON type found.
public struct BSONDecoder: Sendable {
    public init() {}

    /// Decodes a `T` from `document`.
    public func decode<T: Decodable>(_ type: T.Type, from document: BSONDocument) throws -> T {
        try document.storage.withUnsafeBytes { try decode(type, from: $0) }
    }

    /// Decodes a `T` from the bytes of one BSON document (for example, libbson's buffer of a cursor).
    package func decode<T: Decodable>(_ type: T.Type, from raw: UnsafeRawBufferPointer) throws -> T {
        guard raw.count >= 5 else { throw BSONError("a document needs at least 5 bytes, got \(raw.count)") }
        let reader = BSONReader(raw)
        let length = Int(reader.int32(at: 0))
        guard length >= 5, length <= raw.count, raw[length - 1] == 0 else {
            throw BSONError("the document declares \(length) bytes but \(raw.count) are there")
        }
        if T.self == BSONDocument.self {
            return BSONDocument(trustedBytes: Array(raw[0..<length])) as! T
        }
        if let representable = T.self as? any BSONRepresentable.Type {
            var fields = BSONFieldReader(reader: reader, start: 4, end: length - 1, codingPath: [])
            return try representable.init(bson: &fields) as! T
        }
        let decoder = BSONDecoderImpl(reader: reader, type: BSONType.document.rawValue, offset: 0, limit: length, codingPath: [])
        return try T(from: decoder)
    }
}

final class BSONDecoderImpl: Decoder {
    let reader: BSONReader
    /// The BSON type and position of the value this decoder reads.
    let type: UInt8
    let offset: Int
    /// The end of the enclosing document, which no read may pass.
    let limit: Int
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(reader: BSONReader, type: UInt8, offset: Int, limit: Int, codingPath: [any CodingKey]) {
        self.reader = reader
        self.type = type
        self.offset = offset
        self.limit = limit
        self.codingPath = codingPath
    }

    private func documentBounds(expecting expected: UInt8, _ what: Any.Type) throws -> (start: Int, end: Int) {
        guard type == expected else {
            throw DecodingError.typeMismatch(what, .init(
                codingPath: codingPath,
                debugDescription: "expected \(expected == 0x03 ? "a document" : "an array") but found \(BSONType(rawValue: type)?.name ?? "type \(type)")"))
        }
        let size = try reader.valueSize(type, at: offset, limit: limit)
        return (offset + 4, offset + size - 1)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        let (start, end) = try documentBounds(expecting: 0x03, [String: Any].self)
        return KeyedDecodingContainer(BSONKeyedDecodingContainer<Key>(decoder: self, scan: DocumentScan(start: start, end: end)))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (start, end) = try documentBounds(expecting: 0x04, [Any].self)
        return BSONUnkeyedDecodingContainer(decoder: self, position: start, end: end)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        BSONSingleValueDecodingContainer(decoder: self)
    }

    /// Reads the value of BSON `type` at `offset` as a `T`.
    @inline(__always)
    func read<T: Decodable>(_ t: T.Type, type: UInt8, at offset: Int, end: Int, path: @autoclosure () -> [any CodingKey]) throws -> T {
        try readValue(T.self, reader, type: type, at: offset, limit: end,
                      mismatch: { mismatch(T.self, expectation: $0, type: type, path: path()) }) {
            if type == 0x0A || type == 0x06 {
                // A null for a non-optional composite value.
                throw DecodingError.valueNotFound(T.self, .init(codingPath: path(), debugDescription: "expected \(T.self) but found null"))
            }
            return try T(from: BSONDecoderImpl(reader: reader, type: type, offset: offset, limit: end, codingPath: path()))
        }
    }

    /// Reads a primitive without the dynamic check (the concrete-type overloads).
    @inline(__always)
    func readPrimitive<T: BSONPrimitive>(_ t: T.Type, type: UInt8, at offset: Int, end: Int, path: @autoclosure () -> [any CodingKey]) throws -> T {
        guard let v = try T.readBSON(reader, type: type, at: offset, limit: end) else {
            throw mismatch(T.self, expectation: T.bsonExpectation, type: type, path: path())
        }
        return v
    }

    func mismatch(_ t: Any.Type, expectation: String, type: UInt8, path: [any CodingKey]) -> DecodingError {
        let found = BSONType(rawValue: type)?.name ?? "type 0x\(String(type, radix: 16))"
        if type == 0x0A || type == 0x06 {
            return .valueNotFound(t, .init(codingPath: path, debugDescription: "expected \(expectation) but found null"))
        }
        return .typeMismatch(t, .init(codingPath: path, debugDescription: "expected \(expectation) but found \(found)"))
    }
}

/// The elements of one document, searched from where the last key was found: properties are
/// usually read in the order they were written, so most searches match at once.
struct ScanState {
    let start: Int
    let end: Int
    var cursor: Int
    /// The last element found: `decodeIfPresent` asks for the same key more than once.
    var lastKeyStart = -1
    var lastKeyLength = -1
    var lastType: UInt8 = 0
    var lastValue = 0

    init(start: Int, end: Int) {
        self.start = start
        self.end = end
        cursor = start
    }

    /// Finds the element whose key is the bytes `k`. Not generic, and returning a plain struct:
    /// this is the decoder's hottest path, and generic context or tuple results would cost
    /// metadata look-ups.
    mutating func find(_ k: UnsafeBufferPointer<UInt8>, in r: BSONReader) throws(BSONError) -> ElementRef? {
        let base = r.base
        // Most reads follow the order of the writes: try the element at the cursor first, then the
        // one found last (`decodeIfPresent` asks twice), then scan the whole document once.
        if cursor < end, let hit = try match(k, at: cursor, in: r) {
            return hit
        }
        if lastKeyLength == k.count, Self.equal(base, lastKeyStart, k) {
            return ElementRef(type: lastType, value: lastValue)
        }
        var o = cursor
        var wrapped = false
        while true {
            if o >= end {
                if wrapped || cursor == start { return nil }
                wrapped = true
                o = start
            }
            if wrapped && o >= cursor { return nil }
            if let hit = try match(k, at: o, in: r) { return hit }
            let valueAt = try r.cStringEnd(from: o + 1, limit: end) + 1
            o = valueAt + (try r.valueSize(base[o], at: valueAt, limit: end))
        }
    }

    /// The element at `o` when its key is `k` (and then the cursor moves past it).
    @inline(__always)
    private mutating func match(_ k: UnsafeBufferPointer<UInt8>, at o: Int, in r: BSONReader) throws(BSONError) -> ElementRef? {
        let base = r.base
        let keyStart = o + 1
        guard keyStart + k.count < end, base[keyStart + k.count] == 0, Self.equal(base, keyStart, k) else { return nil }
        let type = base[o]
        let valueAt = keyStart + k.count + 1
        let size = try r.valueSize(type, at: valueAt, limit: end)
        cursor = valueAt + size
        lastKeyStart = keyStart
        lastKeyLength = k.count
        lastType = type
        lastValue = valueAt
        return ElementRef(type: type, value: valueAt)
    }

    /// Whether the `k.count` bytes at `offset` are `k`: eight bytes at a time, then the rest
    /// (keys are short; this beats memcmp's call).
    @inline(__always)
    private static func equal(_ base: UnsafeRawBufferPointer, _ offset: Int, _ k: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = k.count
        let key = UnsafeRawPointer(k.baseAddress!)
        let here = base.baseAddress! + offset
        var i = 0
        while i + 8 <= n {
            if here.loadUnaligned(fromByteOffset: i, as: UInt64.self) != key.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
            i += 8
        }
        while i < n {
            if here.load(fromByteOffset: i, as: UInt8.self) != key.load(fromByteOffset: i, as: UInt8.self) { return false }
            i += 1
        }
        return true
    }
}

/// A ``ScanState`` shared by the containers that `Codable` copies around.
final class DocumentScan {
    var state: ScanState
    var start: Int { state.start }
    var end: Int { state.end }

    init(start: Int, end: Int) {
        state = ScanState(start: start, end: end)
    }

    func find(_ name: String, in r: BSONReader) throws(BSONError) -> ElementRef? {
        var name = name
        let outcome = name.withUTF8 { k in Result { () throws(BSONError) in try state.find(k, in: r) } }
        return try outcome.get()
    }
}

/// An element found in a document: its BSON type and where its value starts.
struct ElementRef {
    var type: UInt8
    var value: Int
}

/// A class, not a struct: the standard library's type-erasing box copies its container on every
/// call through generic value witnesses, and copying one reference is the cheapest copy there is.
final class BSONKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: BSONDecoderImpl
    let scan: DocumentScan
    var codingPath: [any CodingKey] { decoder.codingPath }

    init(decoder: BSONDecoderImpl, scan: DocumentScan) {
        self.decoder = decoder
        self.scan = scan
    }

    var allKeys: [Key] {
        var keys: [Key] = []
        var o = scan.start
        let r = decoder.reader
        while o < scan.end {
            guard let keyEnd = try? r.cStringEnd(from: o + 1, limit: scan.end),
                  let size = try? r.valueSize(r.base[o], at: keyEnd + 1, limit: scan.end) else { break }
            if let k = Key(stringValue: r.string(from: o + 1, count: keyEnd - o - 1)) { keys.append(k) }
            o = keyEnd + 1 + size
        }
        return keys
    }

    /// Finds `key`: its BSON type and the offset of its value, or nil.
    @inline(__always)
    private func find(_ key: Key) throws -> ElementRef? {
        try scan.find(key.stringValue, in: decoder.reader)
    }

    private func require(_ key: Key) throws -> ElementRef {
        guard let e = try find(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no field '\(key.stringValue)' in the document"))
        }
        return e
    }

    func contains(_ key: Key) -> Bool { (try? find(key)) != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        let e = try require(key)
        return e.type == 0x0A || e.type == 0x06
    }

    @inline(__always)
    private func primitive<T: BSONPrimitive>(_ t: T.Type, _ key: Key) throws -> T {
        let e = try require(key)
        return try decoder.readPrimitive(t, type: e.type, at: e.value, end: scan.end, path: codingPath + [key])
    }

    @inline(__always)
    private func primitiveIfPresent<T: BSONPrimitive>(_ t: T.Type, _ key: Key) throws -> T? {
        guard let e = try find(key), e.type != 0x0A, e.type != 0x06 else { return nil }
        return try decoder.readPrimitive(t, type: e.type, at: e.value, end: scan.end, path: codingPath + [key])
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try primitive(type, key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try primitive(type, key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try primitive(type, key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try primitive(type, key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try primitive(type, key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try primitive(type, key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try primitive(type, key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try primitive(type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try primitive(type, key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try primitive(type, key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try primitive(type, key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try primitive(type, key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try primitive(type, key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try primitive(type, key) }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try primitiveIfPresent(type, key) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try primitiveIfPresent(type, key) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try primitiveIfPresent(type, key) }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try primitiveIfPresent(type, key) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try primitiveIfPresent(type, key) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try primitiveIfPresent(type, key) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try primitiveIfPresent(type, key) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try primitiveIfPresent(type, key) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try primitiveIfPresent(type, key) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try primitiveIfPresent(type, key) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try primitiveIfPresent(type, key) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try primitiveIfPresent(type, key) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try primitiveIfPresent(type, key) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try primitiveIfPresent(type, key) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let e = try require(key)
        return try decoder.read(type, type: e.type, at: e.value, end: scan.end, path: codingPath + [key])
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let e = try find(key), e.type != 0x0A, e.type != 0x06 else { return nil }
        return try decoder.read(type, type: e.type, at: e.value, end: scan.end, path: codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        let e = try require(key)
        return try BSONDecoderImpl(reader: decoder.reader, type: e.type, offset: e.value, limit: scan.end, codingPath: codingPath + [key])
            .container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        let e = try require(key)
        return try BSONDecoderImpl(reader: decoder.reader, type: e.type, offset: e.value, limit: scan.end, codingPath: codingPath + [key])
            .unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { try superDecoder(named: BSONKey("super")) }
    func superDecoder(forKey key: Key) throws -> any Decoder { try superDecoder(named: key) }

    private func superDecoder(named key: any CodingKey) throws -> any Decoder {
        guard let k = Key(stringValue: key.stringValue), let e = try find(k) else {
            return BSONDecoderImpl(reader: decoder.reader, type: 0x0A, offset: scan.end, limit: scan.end, codingPath: codingPath + [key])
        }
        return BSONDecoderImpl(reader: decoder.reader, type: e.type, offset: e.value, limit: scan.end, codingPath: codingPath + [key])
    }
}

struct BSONUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let decoder: BSONDecoderImpl
    var position: Int
    let end: Int
    private(set) var currentIndex = 0
    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? {
        var n = 0
        var o = position
        let r = decoder.reader
        while o < end {
            guard let keyEnd = try? r.cStringEnd(from: o + 1, limit: end),
                  let size = try? r.valueSize(r.base[o], at: keyEnd + 1, limit: end) else { break }
            o = keyEnd + 1 + size
            n += 1
        }
        return currentIndex + n
    }
    var isAtEnd: Bool { position >= end }

    init(decoder: BSONDecoderImpl, position: Int, end: Int) {
        self.decoder = decoder
        self.position = position
        self.end = end
    }

    /// The next element, without moving past it.
    private func peek() throws -> (type: UInt8, value: Int, next: Int) {
        guard position < end else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath + [BSONKey(index: currentIndex)], debugDescription: "the array has no more elements"))
        }
        let r = decoder.reader
        let type = r.base[position]
        let value = try r.cStringEnd(from: position + 1, limit: end) + 1
        let size = try r.valueSize(type, at: value, limit: end)
        return (type, value, value + size)
    }

    mutating func decodeNil() throws -> Bool {
        let e = try peek()
        guard e.type == 0x0A || e.type == 0x06 else { return false }
        position = e.next
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let e = try peek()
        let v = try decoder.read(type, type: e.type, at: e.value, end: end, path: codingPath + [BSONKey(index: currentIndex)])
        position = e.next
        currentIndex += 1
        return v
    }

    mutating func decode(_ type: String.Type) throws -> String {
        let e = try peek()
        let v = try decoder.readPrimitive(type, type: e.type, at: e.value, end: end, path: codingPath + [BSONKey(index: currentIndex)])
        position = e.next
        currentIndex += 1
        return v
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let e = try peek()
        let c = try BSONDecoderImpl(reader: decoder.reader, type: e.type, offset: e.value, limit: end, codingPath: codingPath + [BSONKey(index: currentIndex)])
            .container(keyedBy: type)
        position = e.next
        currentIndex += 1
        return c
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let e = try peek()
        let c = try BSONDecoderImpl(reader: decoder.reader, type: e.type, offset: e.value, limit: end, codingPath: codingPath + [BSONKey(index: currentIndex)])
            .unkeyedContainer()
        position = e.next
        currentIndex += 1
        return c
    }

    mutating func superDecoder() throws -> any Decoder {
        let e = try peek()
        let d = BSONDecoderImpl(reader: decoder.reader, type: e.type, offset: e.value, limit: end, codingPath: codingPath + [BSONKey(index: currentIndex)])
        position = e.next
        currentIndex += 1
        return d
    }
}

struct BSONSingleValueDecodingContainer: SingleValueDecodingContainer {
    let decoder: BSONDecoderImpl
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.type == 0x0A || decoder.type == 0x06 }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try readValue(T.self, decoder.reader, type: decoder.type, at: decoder.offset, limit: decoder.limit,
                      mismatch: { decoder.mismatch(T.self, expectation: $0, type: decoder.type, path: codingPath) }) {
            try T(from: decoder)
        }
    }

    func decode(_ type: String.Type) throws -> String {
        try decoder.readPrimitive(type, type: decoder.type, at: decoder.offset, end: decoder.limit, path: codingPath)
    }
}
