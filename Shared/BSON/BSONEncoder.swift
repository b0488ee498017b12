/// Encodes `Encodable` values straight into BSON bytes, with no intermediate tree or JSON.
///
/// Swift types map to BSON as follows: `String` → string; `Bool` → bool; `Double`, `Float` → double;
/// `Int8`…`Int32`, `UInt8`, `UInt16` → int32; `Int`, `Int64`, `UInt32` and fitting `UInt`/`UInt64` → int64;
/// `Date` → datetime (milliseconds); `Data` → binary; `UUID` → binary subtype 4; `Decimal`, ``Decimal128`` →
/// decimal128; ``ObjectId`` → objectId; arrays → array; structs and dictionaries → document; `nil` → null
/// (a `nil` optional property is left out, as synthesized `Codable` does).
///
/// Containers are written in place as they are used. A nested container stays open until its parent
/// writes again; writing to a container after its parent has moved on is an error.
public struct BSONEncoder: Sendable {
    public init() {}

    /// Encodes `value`, which must encode as a keyed container (a document).
    ///
    /// - Throws: `EncodingError.invalidValue` for a top-level value that is not a document, a key with a
    ///   NUL character, or an unsigned integer above `Int64.max`.
    public func encode<T: Encodable>(_ value: T) throws -> BSONDocument {
        if let document = value as? BSONDocument { return document }
        if let representable = value as? any BSONRepresentable {
            var fields = BSONFieldWriter(writer: BSONWriter(capacity: 1024))
            let start = fields.writer.openDocument()
            try representable.writeBSON(to: &fields)
            fields.writer.closeDocument(startedAt: start)
            return BSONDocument(trustedBytes: fields.writer.bytes)
        }
        let state = BSONEncodingState()
        try value.encode(to: BSONEncoderImpl(state: state, codingPath: [], slot: .topLevel))
        state.close(from: 0)
        if let error = state.error { throw error }
        guard state.wroteTopLevelDocument else {
            throw EncodingError.invalidValue(
                value,
                .init(codingPath: [], debugDescription: "a BSON document must be a keyed value (a struct or a dictionary), not \(T.self)")
            )
        }
        return BSONDocument(trustedBytes: state.writer.bytes)
    }
}

/// The bytes being written and the containers still open in them.
final class BSONEncodingState {
    var writer = BSONWriter(capacity: 1024)
    /// Open documents and arrays, outermost first: the offset of each length placeholder and a serial
    /// that tells a container whether it is still the one at its depth.
    var open: [OpenContainer] = []
    var nextSerial = 0
    var error: (any Error)?
    var wroteTopLevelDocument = false

    @inline(__always) func push(start: Int) -> (depth: Int, serial: Int) {
        nextSerial &+= 1
        open.append(OpenContainer(start: start, serial: nextSerial))
        return (open.count - 1, nextSerial)
    }

    /// Closes every container at `depth` and deeper.
    @inline(__always) func close(from depth: Int) {
        while open.count > depth {
            writer.closeDocument(startedAt: open.removeLast().start)
        }
    }

    /// Makes the container at `depth` the innermost open one, or fails if it was already closed.
    @inline(__always) func activate(depth: Int, serial: Int, codingPath: [any CodingKey]) throws {
        if open.count > depth + 1 { close(from: depth + 1) }
        guard open.count == depth + 1, open[depth].serial == serial else {
            throw EncodingError.invalidValue(
                (),
                .init(codingPath: codingPath, debugDescription: "a BSON container was written to after its parent moved on; encode nested values in order")
            )
        }
    }

    /// Writes the element `key: value`: primitives directly, everything else through its `encode(to:)`.
    @inline(__always)
    func encodeElement<T: Encodable>(_ value: T, writeKey: (inout BSONWriter) throws(BSONError) -> Void, codingPath: @autoclosure () -> [any CodingKey]) throws {
        if let p = primitive(value) {
            writer.append(p.bsonType.rawValue)
            try writeKey(&writer)
            try p.writeBSONBody(to: &writer)
            return
        }
        let typeAt = writer.count
        writer.append(BSONType.document.rawValue)
        try writeKey(&writer)
        let bodyStart = writer.count
        let depth = open.count
        try value.encode(to: BSONEncoderImpl(state: self, codingPath: codingPath(), slot: .element(typeAt: typeAt)))
        close(from: depth)
        if writer.count == bodyStart {
            // The value asked for no container: an empty document, as JSONEncoder writes `{}`.
            writer.bytes.append(contentsOf: [5, 0, 0, 0, 0] as [UInt8])
        }
    }
}

/// A document or array whose length is not written yet.
struct OpenContainer {
    var start: Int
    var serial: Int
}

/// Where an encoder's value goes.
enum BSONEncoderSlot {
    /// The document being encoded.
    case topLevel
    /// The body of an element whose type byte is at `typeAt`.
    case element(typeAt: Int)
    /// An already opened document (for `superEncoder`), at this depth.
    case opened(typeAt: Int, depth: Int, serial: Int)
}

final class BSONEncoderImpl: Encoder {
    let state: BSONEncodingState
    let codingPath: [any CodingKey]
    let slot: BSONEncoderSlot
    /// The container this encoder opened: asking again (as a subclass and its superclass do) returns it.
    private var opened: (depth: Int, serial: Int)?
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(state: BSONEncodingState, codingPath: [any CodingKey], slot: BSONEncoderSlot) {
        self.state = state
        self.codingPath = codingPath
        self.slot = slot
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let (depth, serial) = openContainer(type: .document)
        return KeyedEncodingContainer(BSONKeyedEncodingContainer<Key>(state: state, depth: depth, serial: serial, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let (depth, serial) = openContainer(type: .array)
        return BSONUnkeyedEncodingContainer(state: state, depth: depth, serial: serial, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        BSONSingleValueEncodingContainer(state: state, slot: slot, codingPath: codingPath)
    }

    private func openContainer(type: BSONType) -> (Int, Int) {
        if let opened { return opened }
        let result: (Int, Int)
        switch slot {
        case .topLevel:
            if type == .array {
                state.error = state.error ?? EncodingError.invalidValue(
                    [Int](), .init(codingPath: codingPath, debugDescription: "a BSON document must be keyed; an array cannot be the top-level value"))
            }
            state.wroteTopLevelDocument = true
            result = state.push(start: state.writer.openDocument())
        case .element(let typeAt):
            state.writer.bytes[typeAt] = type.rawValue
            result = state.push(start: state.writer.openDocument())
        case .opened(let typeAt, let depth, let serial):
            state.writer.bytes[typeAt] = type.rawValue
            result = (depth, serial)
        }
        opened = result
        return result
    }
}

/// A class, not a struct: the standard library's type-erasing box copies its container on every
/// call through generic value witnesses, and copying one reference is the cheapest copy there is.
final class BSONKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let state: BSONEncodingState
    let depth: Int
    let serial: Int
    let codingPath: [any CodingKey]

    init(state: BSONEncodingState, depth: Int, serial: Int, codingPath: [any CodingKey]) {
        self.state = state
        self.depth = depth
        self.serial = serial
        self.codingPath = codingPath
    }

    @inline(__always) private func header(_ type: BSONType, _ key: Key) throws {
        try state.activate(depth: depth, serial: serial, codingPath: codingPath)
        try state.writer.appendHeader(type, key: key.stringValue)
    }

    func encodeNil(forKey key: Key) throws { try header(.null, key) }
    func encode(_ value: Bool, forKey key: Key) throws { try header(.bool, key); value.writeBSONBody(to: &state.writer) }
    func encode(_ value: String, forKey key: Key) throws { try header(.string, key); state.writer.append(string: value) }
    func encode(_ value: Double, forKey key: Key) throws { try header(.double, key); state.writer.append(double: value) }
    func encode(_ value: Float, forKey key: Key) throws { try header(.double, key); state.writer.append(double: Double(value)) }
    func encode(_ value: Int, forKey key: Key) throws { try header(.int64, key); state.writer.append(int64: Int64(value)) }
    func encode(_ value: Int8, forKey key: Key) throws { try integer(value, key) }
    func encode(_ value: Int16, forKey key: Key) throws { try integer(value, key) }
    func encode(_ value: Int32, forKey key: Key) throws { try header(.int32, key); state.writer.append(int32: value) }
    func encode(_ value: Int64, forKey key: Key) throws { try header(.int64, key); state.writer.append(int64: value) }
    func encode(_ value: UInt, forKey key: Key) throws { try integer(value, key) }
    func encode(_ value: UInt8, forKey key: Key) throws { try integer(value, key) }
    func encode(_ value: UInt16, forKey key: Key) throws { try integer(value, key) }
    func encode(_ value: UInt32, forKey key: Key) throws { try integer(value, key) }
    func encode(_ value: UInt64, forKey key: Key) throws { try integer(value, key) }

    private func integer<I: BSONInteger>(_ value: I, _ key: Key) throws {
        try header(value.bsonType, key)
        try value.writeBSONBody(to: &state.writer)
    }

    func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try state.activate(depth: depth, serial: serial, codingPath: codingPath)
        let name = key.stringValue
        try state.encodeElement(value, writeKey: { (w: inout BSONWriter) throws(BSONError) in try w.append(cString: name) }, codingPath: codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let (d, s) = openNested(.document, key)
        return KeyedEncodingContainer(BSONKeyedEncodingContainer<NestedKey>(state: state, depth: d, serial: s, codingPath: codingPath + [key]))
    }

    func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let (d, s) = openNested(.array, key)
        return BSONUnkeyedEncodingContainer(state: state, depth: d, serial: s, codingPath: codingPath + [key])
    }

    private func openNested(_ type: BSONType, _ key: Key) -> (Int, Int) {
        do {
            try header(type, key)
        } catch {
            state.error = state.error ?? error
        }
        return state.push(start: state.writer.openDocument())
    }

    func superEncoder() -> any Encoder { superEncoder(named: BSONKey("super")) }
    func superEncoder(forKey key: Key) -> any Encoder { superEncoder(named: key) }

    private func superEncoder(named key: any CodingKey) -> any Encoder {
        do {
            try state.activate(depth: depth, serial: serial, codingPath: codingPath)
        } catch {
            state.error = state.error ?? error
        }
        let typeAt = state.writer.count
        state.writer.append(BSONType.document.rawValue)
        do { try state.writer.append(cString: key.stringValue) } catch { state.error = state.error ?? error }
        let (d, s) = state.push(start: state.writer.openDocument())
        return BSONEncoderImpl(state: state, codingPath: codingPath + [key], slot: .opened(typeAt: typeAt, depth: d, serial: s))
    }
}

struct BSONUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let state: BSONEncodingState
    let depth: Int
    let serial: Int
    let codingPath: [any CodingKey]
    private(set) var count = 0

    init(state: BSONEncodingState, depth: Int, serial: Int, codingPath: [any CodingKey]) {
        self.state = state
        self.depth = depth
        self.serial = serial
        self.codingPath = codingPath
    }

    private mutating func header(_ type: BSONType) throws {
        try state.activate(depth: depth, serial: serial, codingPath: codingPath)
        state.writer.append(type.rawValue)
        BSONWriter.appendIndexKey(count, to: &state.writer.bytes)
        count += 1
    }

    mutating func encodeNil() throws { try header(.null) }
    mutating func encode(_ value: String) throws { try header(.string); state.writer.append(string: value) }
    mutating func encode(_ value: Bool) throws { try header(.bool); value.writeBSONBody(to: &state.writer) }
    mutating func encode(_ value: Double) throws { try header(.double); state.writer.append(double: value) }
    mutating func encode(_ value: Int) throws { try header(.int64); state.writer.append(int64: Int64(value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try state.activate(depth: depth, serial: serial, codingPath: codingPath)
        let index = count
        count += 1
        try state.encodeElement(
            value,
            writeKey: { (w: inout BSONWriter) throws(BSONError) in BSONWriter.appendIndexKey(index, to: &w.bytes) },
            codingPath: codingPath + [BSONKey(index: index)]
        )
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let path = codingPath + [BSONKey(index: count)]
        let (d, s) = openNested(.document)
        return KeyedEncodingContainer(BSONKeyedEncodingContainer<NestedKey>(state: state, depth: d, serial: s, codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = codingPath + [BSONKey(index: count)]
        let (d, s) = openNested(.array)
        return BSONUnkeyedEncodingContainer(state: state, depth: d, serial: s, codingPath: path)
    }

    private mutating func openNested(_ type: BSONType) -> (Int, Int) {
        do { try header(type) } catch { state.error = state.error ?? error }
        return state.push(start: state.writer.openDocument())
    }

    mutating func superEncoder() -> any Encoder {
        do { try state.activate(depth: depth, serial: serial, codingPath: codingPath) } catch { state.error = state.error ?? error }
        let typeAt = state.writer.count
        do { try header(.document) } catch { state.error = state.error ?? error }
        let (d, s) = state.push(start: state.writer.openDocument())
        return BSONEncoderImpl(state: state, codingPath: codingPath + [BSONKey(index: count - 1)], slot: .opened(typeAt: typeAt, depth: d, serial: s))
    }
}

struct BSONSingleValueEncodingContainer: SingleValueEncodingContainer {
    let state: BSONEncodingState
    let slot: BSONEncoderSlot
    let codingPath: [any CodingKey]

    private func typeOffset() throws -> Int {
        switch slot {
        case .element(let typeAt): return typeAt
        case .topLevel, .opened:
            throw EncodingError.invalidValue(
                (), .init(codingPath: codingPath, debugDescription: "a single value cannot stand here: BSON's top level is a document"))
        }
    }

    mutating func encodeNil() throws { state.writer.bytes[try typeOffset()] = BSONType.null.rawValue }

    mutating func encode<T: Encodable>(_ value: T) throws {
        if let p = primitive(value) {
            state.writer.bytes[try typeOffset()] = p.bsonType.rawValue
            try p.writeBSONBody(to: &state.writer)
        } else {
            try value.encode(to: BSONEncoderImpl(state: state, codingPath: codingPath, slot: slot))
        }
    }

    mutating func encode(_ value: String) throws {
        state.writer.bytes[try typeOffset()] = BSONType.string.rawValue
        state.writer.append(string: value)
    }
}

/// A coding key made at run time: array indexes and `super`.
struct BSONKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ string: String) { stringValue = string }
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) { self.init(index: intValue) }
    init(index: Int) {
        stringValue = String(index)
        intValue = index
    }
}
