import CBSON

/// A BSON document: ordered key–value pairs stored as the bytes the specification defines.
///
/// A document is built with a dictionary literal (`["age": ["$gt": 30]]`), by `append`,
/// or by ``BSONEncoder``; it is read by key, by iteration, or by ``BSONDecoder``.
public struct BSONDocument: Sendable, Hashable {
    /// The encoded document: int32 length, elements, NUL.
    package private(set) var storage: [UInt8]

    /// The empty document.
    public init() {
        storage = [5, 0, 0, 0, 0]
    }

    /// Bytes already known to be a valid document (from libbson or our own writer).
    package init(trustedBytes: [UInt8]) {
        storage = trustedBytes
    }

    /// Checks `bytes` against the specification, all the way down.
    ///
    /// - Throws: ``BSONError`` naming the byte offset of the first problem.
    public init(bytes: [UInt8]) throws(BSONError) {
        try self.init(validating: bytes)
    }

    package init(validating bytes: [UInt8]) throws(BSONError) {
        let outcome = bytes.withUnsafeBytes { raw in
            Result { () throws(BSONError) in try BSONDocument.validate(BSONReader(raw), at: 0, limit: raw.count) }
        }
        try outcome.get()
        storage = bytes
    }

    private static func validate(_ r: BSONReader, at start: Int, limit: Int) throws(BSONError) {
        guard start + 5 <= limit else { throw BSONError("a document needs at least 5 bytes at byte \(start)") }
        let length = Int(r.int32(at: start))
        guard length >= 5, start + length <= limit else {
            throw BSONError("document at byte \(start) declares \(length) bytes but \(limit - start) are there")
        }
        let end = start + length - 1
        guard r.base[end] == 0 else { throw BSONError("document at byte \(start) does not end with NUL") }
        var o = start + 4
        while o < end {
            let type = r.base[o]
            let keyEnd = try r.cStringEnd(from: o + 1, limit: end)
            let v = keyEnd + 1
            let size = try r.valueSize(type, at: v, limit: end)
            switch type {
            case 0x03, 0x04: try validate(r, at: v, limit: v + size)
            case 0x02, 0x0D, 0x0E: _ = try r.stringValue(at: v, limit: end)
            default: break
            }
            o = v + size
        }
        guard o == end else { throw BSONError("document at byte \(start) has elements past its end") }
    }

    /// The encoded bytes.
    public var bytes: [UInt8] { storage }

    /// The number of bytes of the encoding.
    public var byteCount: Int { storage.count }

    // MARK: Building

    /// Appends `key: value` at the end (keys are not checked for uniqueness, as in BSON).
    public mutating func append(_ key: String, _ value: BSONValue) {
        var w = BSONWriter(capacity: 0)
        swap(&w.bytes, &storage)
        w.bytes.removeLast()
        do {
            try w.append(key: key, value: value)
        } catch {
            preconditionFailure("\(error)")
        }
        w.bytes.append(0)
        w.patch(int32: Int32(w.bytes.count), at: 0)
        swap(&w.bytes, &storage)
    }

    /// The value of the first element named `key`; setting replaces it in place, appends a new
    /// key at the end, and setting `nil` removes it.
    public subscript(key: String) -> BSONValue? {
        get { value(forKey: key) }
        set {
            var rebuilt = BSONDocument()
            var replaced = false
            for (k, v) in self {
                if k == key {
                    if !replaced, let newValue { rebuilt.append(k, newValue) }
                    replaced = true
                } else {
                    rebuilt.append(k, v)
                }
            }
            if !replaced, let newValue { rebuilt.append(key, newValue) }
            self = rebuilt
        }
    }

    /// Keys in order.
    public var keys: [String] { map(\.key) }

    /// Values in order.
    public var values: [BSONValue] { map(\.value) }

    /// The number of elements.
    public var count: Int { reduce(0) { n, _ in n + 1 } }

    public var isEmpty: Bool { storage.count == 5 }
}

extension BSONDocument: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, BSONValue)...) {
        self.init()
        for (k, v) in elements { append(k, v) }
    }
}

extension BSONDocument: Sequence {
    public struct Iterator: IteratorProtocol {
        let storage: [UInt8]
        var offset = 4

        public mutating func next() -> (key: String, value: BSONValue)? {
            guard offset < storage.count - 1 else { return nil }
            return storage.withUnsafeBytes { raw -> (key: String, value: BSONValue)? in
                let r = BSONReader(raw)
                let limit = raw.count - 1
                do {
                    let type = raw[offset]
                    let keyEnd = try r.cStringEnd(from: offset + 1, limit: limit)
                    let key = r.string(from: offset + 1, count: keyEnd - offset - 1)
                    let v = keyEnd + 1
                    let size = try r.valueSize(type, at: v, limit: limit)
                    let value = try r.value(type, at: v, limit: limit)
                    offset = v + size
                    return (key, value)
                } catch {
                    // Documents are validated when they are made; this is unreachable for them.
                    offset = storage.count
                    return nil
                }
            }
        }
    }

    public func makeIterator() -> Iterator { Iterator(storage: storage) }

    /// The value of the first element named `key`: keys are compared as bytes and only the
    /// matching value is decoded (rules evaluated per profile read a few fields of many).
    public func value(forKey key: String) -> BSONValue? {
        var key = key
        return key.withUTF8 { wanted in
            storage.withUnsafeBytes { raw -> BSONValue? in
                let r = BSONReader(raw)
                let limit = raw.count - 1
                var o = 4
                while o < limit {
                    let type = raw[o]
                    guard let keyEnd = try? r.cStringEnd(from: o + 1, limit: limit) else { return nil }
                    let v = keyEnd + 1
                    if keyEnd - o - 1 == wanted.count, Self.same(raw, from: o + 1, wanted) {
                        return try? r.value(type, at: v, limit: limit)
                    }
                    guard let size = try? r.valueSize(type, at: v, limit: limit) else { return nil }
                    o = v + size
                }
                return nil
            }
        }
    }

    @inline(__always) private static func same(_ raw: UnsafeRawBufferPointer, from start: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        for i in 0..<key.count where raw[start + i] != key[i] { return false }
        return true
    }
}

extension BSONDocument: CustomStringConvertible {
    /// Relaxed Extended JSON, as libbson writes it.
    public var description: String {
        storage.withUnsafeBufferPointer { buf -> String in
            guard let view = herald_bson_view(buf.baseAddress, buf.count) else { return "<invalid BSON>" }
            defer { herald_bson_view_free(view) }
            var length = 0
            guard let json = bson_as_relaxed_extended_json(view, &length) else { return "<invalid BSON>" }
            defer { bson_free(json) }
            return String(cString: json)
        }
    }
}
