/// Appends BSON elements to a byte buffer (little-endian, as the specification requires).
package struct BSONWriter {
    package var bytes: [UInt8]

    package init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inline(__always) package var count: Int { bytes.count }

    @inline(__always) package mutating func append(_ byte: UInt8) { bytes.append(byte) }

    @inline(__always) package mutating func append(int32 v: Int32) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    @inline(__always) package mutating func append(int64 v: Int64) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    @inline(__always) package mutating func append(uint64 v: UInt64) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    @inline(__always) package mutating func append(double v: Double) {
        append(uint64: v.bitPattern)
    }

    /// Writes `v` over the four bytes at `offset` (a length placeholder).
    @inline(__always) package mutating func patch(int32 v: Int32, at offset: Int) {
        let le = UInt32(bitPattern: v).littleEndian
        bytes[offset] = UInt8(truncatingIfNeeded: le)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: le >> 8)
        bytes[offset + 2] = UInt8(truncatingIfNeeded: le >> 16)
        bytes[offset + 3] = UInt8(truncatingIfNeeded: le >> 24)
    }

    /// A key or regex part: UTF-8 bytes and a NUL, which the text must not contain.
    @inline(__always) package mutating func append(cString s: String) throws(BSONError) {
        var s = s
        let ok = s.withUTF8 { utf8 -> Bool in
            var i = 0
            while i < utf8.count {
                if utf8[i] == 0 { return false }
                i += 1
            }
            bytes.append(contentsOf: utf8)
            return true
        }
        guard ok else { throw BSONError("the key or pattern '\(s.replacingNulls)' contains a NUL character, which BSON cannot store") }
        bytes.append(0)
    }

    /// A BSON string: int32 length (with the NUL), UTF-8 bytes, NUL.
    @inline(__always) package mutating func append(string s: String) {
        var s = s
        s.withUTF8 { utf8 in
            append(int32: Int32(utf8.count + 1))
            bytes.append(contentsOf: utf8)
        }
        bytes.append(0)
    }

    /// Starts an element: its type and key. Returns the offset of the type byte.
    @inline(__always) @discardableResult
    package mutating func appendHeader(_ type: BSONType, key: String) throws(BSONError) -> Int {
        let at = bytes.count
        bytes.append(type.rawValue)
        try append(cString: key)
        return at
    }

    /// Starts a document or array body; returns the offset of its length placeholder.
    @inline(__always) package mutating func openDocument() -> Int {
        let at = bytes.count
        bytes.append(contentsOf: [0, 0, 0, 0] as [UInt8])
        return at
    }

    /// Ends the document or array whose body started at `start`.
    @inline(__always) package mutating func closeDocument(startedAt start: Int) {
        bytes.append(0)
        patch(int32: Int32(bytes.count - start), at: start)
    }

    /// Appends a whole element.
    package mutating func append(key: String, value: BSONValue) throws(BSONError) {
        try appendHeader(value.type, key: key)
        try appendBody(of: value)
    }

    /// Appends the bytes of a value (everything after the key).
    package mutating func appendBody(of value: BSONValue) throws(BSONError) {
        switch value {
        case .double(let v): append(double: v)
        case .string(let v), .javascript(let v), .symbol(let v): append(string: v)
        case .document(let d): bytes.append(contentsOf: d.storage)
        case .array(let a):
            let start = openDocument()
            for (i, v) in a.enumerated() {
                bytes.append(v.type.rawValue)
                BSONWriter.appendIndexKey(i, to: &bytes)
                try appendBody(of: v)
            }
            closeDocument(startedAt: start)
        case .binary(let b):
            append(int32: Int32(b.bytes.count))
            bytes.append(b.subtype.rawValue)
            bytes.append(contentsOf: b.bytes)
        case .objectId(let id): withUnsafeBytes(of: id.bytes) { bytes.append(contentsOf: $0) }
        case .bool(let v): bytes.append(v ? 1 : 0)
        case .datetime(let ms): append(int64: ms)
        case .null, .undefined, .minKey, .maxKey: break
        case .regularExpression(let r):
            try append(cString: r.pattern)
            try append(cString: r.options)
        case .int32(let v): append(int32: v)
        case .timestamp(let t): append(uint64: UInt64(t.seconds) << 32 | UInt64(t.increment))
        case .int64(let v): append(int64: v)
        case .decimal128(let d):
            append(uint64: d.low)
            append(uint64: d.high)
        }
    }

    private static let indexKeys: [[UInt8]] = (0..<1024).map { Array(String($0).utf8) + [0] }

    /// Appends the key of array element `i` ("0", "1", …) with its NUL.
    @inline(__always) package static func appendIndexKey(_ i: Int, to bytes: inout [UInt8]) {
        if i < indexKeys.count {
            bytes.append(contentsOf: indexKeys[i])
        } else {
            bytes.append(contentsOf: String(i).utf8)
            bytes.append(0)
        }
    }
}

extension String {
    var replacingNulls: String { String(self.map { $0 == "\0" ? "␀" : $0 }) }
}
