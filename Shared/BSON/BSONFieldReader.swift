import Foundation

/// Reads the fields of one document for ``BSONRepresentable``. Errors are `DecodingError`s with
/// the coding path and the BSON type found, as ``BSONDecoder`` throws them.
package struct BSONFieldReader {
    let reader: BSONReader
    var scan: ScanState
    let codingPath: [any CodingKey]

    init(reader: BSONReader, start: Int, end: Int, codingPath: [any CodingKey]) {
        self.reader = reader
        scan = ScanState(start: start, end: end)
        self.codingPath = codingPath
    }

    @inline(__always)
    private mutating func find(_ key: StaticString) throws -> ElementRef? {
        try scan.find(UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount), in: reader)
    }

    private func path(_ key: StaticString) -> [any CodingKey] { codingPath + [BSONKey("\(key)")] }

    private func missing(_ key: StaticString) -> DecodingError {
        .keyNotFound(BSONKey("\(key)"), .init(codingPath: codingPath, debugDescription: "no field '\(key)' in the document"))
    }

    /// The value of `key`, which must be present.
    @inline(__always)
    package mutating func read<V: BSONField & BSONPrimitive>(_ type: V.Type, forKey key: StaticString) throws -> V {
        try readSpecialized(type, key)
    }

    /// The value of `key`, or nil when it is missing or null.
    @inline(__always)
    package mutating func readIfPresent<V: BSONField & BSONPrimitive>(_ type: V.Type, forKey key: StaticString) throws -> V? {
        try readIfPresentSpecialized(type, key)
    }

    package mutating func read(_ type: Date.Type, forKey key: StaticString) throws -> Date { try readSpecialized(type, key) }
    package mutating func readIfPresent(_ type: Date.Type, forKey key: StaticString) throws -> Date? { try readIfPresentSpecialized(type, key) }

    /// A nested document.
    package mutating func read<V: BSONRepresentable>(_ type: V.Type, forKey key: StaticString) throws -> V {
        guard let e = try find(key) else { throw missing(key) }
        guard e.type == 0x03 else {
            throw DecodingError.typeMismatch(V.self, .init(codingPath: path(key), debugDescription: "expected a document but found \(BSONType(rawValue: e.type)?.name ?? "type \(e.type)")"))
        }
        let size = try reader.valueSize(e.type, at: e.value, limit: scan.end)
        var nested = BSONFieldReader(reader: reader, start: e.value + 4, end: e.value + size - 1, codingPath: path(key))
        return try V(bson: &nested)
    }

    @inline(__always)
    private func value<V: BSONPrimitive>(_ type: V.Type, _ e: ElementRef, _ key: StaticString) throws -> V {
        guard let v = try V.readBSON(reader, type: e.type, at: e.value, limit: scan.end) else {
            let found = BSONType(rawValue: e.type)?.name ?? "type \(e.type)"
            if e.type == 0x0A || e.type == 0x06 {
                throw DecodingError.valueNotFound(V.self, .init(codingPath: path(key), debugDescription: "expected \(V.bsonExpectation) but found null"))
            }
            throw DecodingError.typeMismatch(V.self, .init(codingPath: path(key), debugDescription: "expected \(V.bsonExpectation) but found \(found)"))
        }
        return v
    }

    // MARK: Concrete overloads
    // The generic versions above run unspecialised when called from another module; these are
    // specialised here for the types models use most.

    package mutating func read(_ type: String.Type, forKey key: StaticString) throws -> String { try readSpecialized(type, key) }
    package mutating func readIfPresent(_ type: String.Type, forKey key: StaticString) throws -> String? { try readIfPresentSpecialized(type, key) }
    package mutating func read(_ type: Int.Type, forKey key: StaticString) throws -> Int { try readSpecialized(type, key) }
    package mutating func readIfPresent(_ type: Int.Type, forKey key: StaticString) throws -> Int? { try readIfPresentSpecialized(type, key) }
    package mutating func read(_ type: Int32.Type, forKey key: StaticString) throws -> Int32 { try readSpecialized(type, key) }
    package mutating func readIfPresent(_ type: Int32.Type, forKey key: StaticString) throws -> Int32? { try readIfPresentSpecialized(type, key) }
    package mutating func read(_ type: Int64.Type, forKey key: StaticString) throws -> Int64 { try readSpecialized(type, key) }
    package mutating func readIfPresent(_ type: Int64.Type, forKey key: StaticString) throws -> Int64? { try readIfPresentSpecialized(type, key) }
    package mutating func read(_ type: Double.Type, forKey key: StaticString) throws -> Double { try readSpecialized(type, key) }
    package mutating func readIfPresent(_ type: Double.Type, forKey key: StaticString) throws -> Double? { try readIfPresentSpecialized(type, key) }
    package mutating func read(_ type: Bool.Type, forKey key: StaticString) throws -> Bool { try readSpecialized(type, key) }
    package mutating func readIfPresent(_ type: Bool.Type, forKey key: StaticString) throws -> Bool? { try readIfPresentSpecialized(type, key) }
    package mutating func read(_ type: ObjectId.Type, forKey key: StaticString) throws -> ObjectId { try readSpecialized(type, key) }
    package mutating func readIfPresent(_ type: ObjectId.Type, forKey key: StaticString) throws -> ObjectId? { try readIfPresentSpecialized(type, key) }
    package mutating func read(_ type: Decimal128.Type, forKey key: StaticString) throws -> Decimal128 { try readSpecialized(type, key) }
    package mutating func readIfPresent(_ type: Decimal128.Type, forKey key: StaticString) throws -> Decimal128? { try readIfPresentSpecialized(type, key) }
    package mutating func read(_ type: BSONDocument.Type, forKey key: StaticString) throws -> BSONDocument { try readSpecialized(type, key) }
    package mutating func readIfPresent(_ type: BSONDocument.Type, forKey key: StaticString) throws -> BSONDocument? { try readIfPresentSpecialized(type, key) }
    package mutating func read(_ type: [String].Type, forKey key: StaticString) throws -> [String] {
        guard let e = try find(key) else { throw missing(key) }
        guard e.type == 0x04 else { return try value(type, e, key) }  // the mismatch error
        let size = try reader.valueSize(e.type, at: e.value, limit: scan.end)
        let end = e.value + size - 1
        var result: [String] = []
        result.reserveCapacity(8)
        var p = e.value + 4
        while p < end {
            let elementType = reader.base[p]
            let at = try reader.cStringEnd(from: p + 1, limit: end) + 1
            guard elementType == 0x02 else {
                let found = BSONType(rawValue: elementType)?.name ?? "type \(elementType)"
                throw DecodingError.typeMismatch(String.self, .init(codingPath: path(key) + [BSONKey(index: result.count)], debugDescription: "expected a string but found \(found)"))
            }
            let string = try reader.stringValue(at: at, limit: end)
            result.append(string)
            p = at + 4 + Int(reader.int32(at: at))
        }
        return result
    }
    package mutating func readIfPresent(_ type: [String].Type, forKey key: StaticString) throws -> [String]? { try readIfPresentSpecialized(type, key) }
    package mutating func read(_ type: [Int].Type, forKey key: StaticString) throws -> [Int] { try readSpecialized(type, key) }
    package mutating func readIfPresent(_ type: [Int].Type, forKey key: StaticString) throws -> [Int]? { try readIfPresentSpecialized(type, key) }
    package mutating func read(_ type: [ObjectId].Type, forKey key: StaticString) throws -> [ObjectId] { try readSpecialized(type, key) }
    package mutating func readIfPresent(_ type: [ObjectId].Type, forKey key: StaticString) throws -> [ObjectId]? { try readIfPresentSpecialized(type, key) }

    @inline(__always)
    private mutating func readSpecialized<V: BSONPrimitive>(_ type: V.Type, _ key: StaticString) throws -> V {
        guard let e = try find(key) else { throw missing(key) }
        return try value(type, e, key)
    }

    @inline(__always)
    private mutating func readIfPresentSpecialized<V: BSONPrimitive>(_ type: V.Type, _ key: StaticString) throws -> V? {
        guard let e = try find(key), e.type != 0x0A, e.type != 0x06 else { return nil }
        return try value(type, e, key)
    }
}
