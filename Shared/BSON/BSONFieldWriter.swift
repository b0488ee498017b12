import Foundation

/// Writes the fields of one document for ``BSONRepresentable``.
package struct BSONFieldWriter {
    var writer: BSONWriter

    init(writer: BSONWriter) {
        self.writer = writer
    }

    /// Writes `key: value`.
    @inline(__always)
    package mutating func write<V: BSONField & BSONPrimitive>(_ value: V, forKey key: StaticString) throws {
        try writeSpecialized(value, key)
    }

    /// Writes `key: value`, or nothing when `value` is nil (as synthesized `Codable` does).
    @inline(__always)
    package mutating func writeIfPresent<V: BSONField & BSONPrimitive>(_ value: V?, forKey key: StaticString) throws {
        if let value { try write(value, forKey: key) }
    }

    package mutating func write(_ value: Date, forKey key: StaticString) throws { try writeSpecialized(value, key) }
    package mutating func writeIfPresent(_ value: Date?, forKey key: StaticString) throws { if let value { try writeSpecialized(value, key) } }

    /// Writes a nested document.
    package mutating func write<V: BSONRepresentable>(_ value: V, forKey key: StaticString) throws {
        writer.append(BSONType.document.rawValue)
        appendKey(key)
        let start = writer.openDocument()
        try value.writeBSON(to: &self)
        writer.closeDocument(startedAt: start)
    }

    @inline(__always)
    private mutating func appendKey(_ key: StaticString) {
        // Keys here are literals in the model's source, so a NUL in one is a programming error,
        // caught in debug builds; Codable's dynamic keys are checked at run time instead.
        let count = key.utf8CodeUnitCount
        let p = key.utf8Start
        assert(!UnsafeBufferPointer(start: p, count: count).contains(0), "the key '\(key)' contains a NUL character")
        writer.bytes.append(contentsOf: UnsafeBufferPointer(start: p, count: count))
        writer.bytes.append(0)
    }

    // MARK: Concrete overloads (see BSONFieldReader)

    package mutating func write(_ value: String, forKey key: StaticString) throws { try writeSpecialized(value, key) }
    package mutating func writeIfPresent(_ value: String?, forKey key: StaticString) throws { if let value { try writeSpecialized(value, key) } }
    package mutating func write(_ value: Int, forKey key: StaticString) throws { try writeSpecialized(value, key) }
    package mutating func writeIfPresent(_ value: Int?, forKey key: StaticString) throws { if let value { try writeSpecialized(value, key) } }
    package mutating func write(_ value: Int32, forKey key: StaticString) throws { try writeSpecialized(value, key) }
    package mutating func writeIfPresent(_ value: Int32?, forKey key: StaticString) throws { if let value { try writeSpecialized(value, key) } }
    package mutating func write(_ value: Int64, forKey key: StaticString) throws { try writeSpecialized(value, key) }
    package mutating func writeIfPresent(_ value: Int64?, forKey key: StaticString) throws { if let value { try writeSpecialized(value, key) } }
    package mutating func write(_ value: Double, forKey key: StaticString) throws { try writeSpecialized(value, key) }
    package mutating func writeIfPresent(_ value: Double?, forKey key: StaticString) throws { if let value { try writeSpecialized(value, key) } }
    package mutating func write(_ value: Bool, forKey key: StaticString) throws { try writeSpecialized(value, key) }
    package mutating func writeIfPresent(_ value: Bool?, forKey key: StaticString) throws { if let value { try writeSpecialized(value, key) } }
    package mutating func write(_ value: ObjectId, forKey key: StaticString) throws { try writeSpecialized(value, key) }
    package mutating func writeIfPresent(_ value: ObjectId?, forKey key: StaticString) throws { if let value { try writeSpecialized(value, key) } }
    package mutating func write(_ value: Decimal128, forKey key: StaticString) throws { try writeSpecialized(value, key) }
    package mutating func writeIfPresent(_ value: Decimal128?, forKey key: StaticString) throws { if let value { try writeSpecialized(value, key) } }
    package mutating func write(_ value: BSONDocument, forKey key: StaticString) throws { try writeSpecialized(value, key) }
    package mutating func writeIfPresent(_ value: BSONDocument?, forKey key: StaticString) throws { if let value { try writeSpecialized(value, key) } }
    package mutating func write(_ value: [String], forKey key: StaticString) throws {
        writer.append(BSONType.array.rawValue)
        appendKey(key)
        let start = writer.openDocument()
        for i in 0..<value.count {
            writer.append(BSONType.string.rawValue)
            BSONWriter.appendIndexKey(i, to: &writer.bytes)
            writer.append(string: value[i])
        }
        writer.closeDocument(startedAt: start)
    }
    package mutating func writeIfPresent(_ value: [String]?, forKey key: StaticString) throws { if let value { try writeSpecialized(value, key) } }
    package mutating func write(_ value: [Int], forKey key: StaticString) throws { try writeSpecialized(value, key) }
    package mutating func writeIfPresent(_ value: [Int]?, forKey key: StaticString) throws { if let value { try writeSpecialized(value, key) } }
    package mutating func write(_ value: [ObjectId], forKey key: StaticString) throws { try writeSpecialized(value, key) }
    package mutating func writeIfPresent(_ value: [ObjectId]?, forKey key: StaticString) throws { if let value { try writeSpecialized(value, key) } }

    @inline(__always)
    private mutating func writeSpecialized<V: BSONPrimitive>(_ value: V, _ key: StaticString) throws {
        writer.append(value.bsonType.rawValue)
        appendKey(key)
        try value.writeBSONBody(to: &writer)
    }
}
