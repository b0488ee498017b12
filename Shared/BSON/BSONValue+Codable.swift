import Foundation

/// Outside BSON (JSON in the HTTP API, logs) documents and values take their natural JSON shape.
/// ``BSONEncoder`` and ``BSONDecoder`` never call these: they copy the bytes as they are.
extension BSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: BSONKey.self) {
            var d = BSONDocument()
            for key in keyed.allKeys { d.append(key.stringValue, try keyed.decode(BSONValue.self, forKey: key)) }
            self = .document(d)
            return
        }
        if var unkeyed = try? decoder.unkeyedContainer() {
            var a: [BSONValue] = []
            while !unkeyed.isAtEnd { a.append(try unkeyed.decode(BSONValue.self)) }
            self = .array(a)
            return
        }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = Int32(exactly: i).map { .int32($0) } ?? .int64(i)
        } else if let d = try? c.decode(Double.self) {
            self = .double(d)
        } else {
            self = .string(try c.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .document(let d): try d.encode(to: encoder)
        case .array(let a):
            var c = encoder.unkeyedContainer()
            for v in a { try c.encode(v) }
        default:
            var c = encoder.singleValueContainer()
            switch self {
            case .double(let v): try c.encode(v)
            case .string(let v), .javascript(let v), .symbol(let v): try c.encode(v)
            case .binary(let b): try c.encode(Data(b.bytes).base64EncodedString())
            case .objectId(let id): try c.encode(id.hex)
            case .bool(let v): try c.encode(v)
            case .datetime: try c.encode(dateValue!)
            case .null, .undefined, .minKey, .maxKey: try c.encodeNil()
            case .regularExpression(let r): try c.encode("/\(r.pattern)/\(r.options)")
            case .int32(let v): try c.encode(v)
            case .timestamp(let t): try c.encode(UInt64(t.seconds) << 32 | UInt64(t.increment))
            case .int64(let v): try c.encode(v)
            case .decimal128(let d): try c.encode(d.description)
            case .document, .array: break
            }
        }
    }
}

extension BSONDocument: Codable {
    public init(from decoder: any Decoder) throws {
        guard case .document(let d) = try BSONValue(from: decoder) else {
            throw DecodingError.typeMismatch(BSONDocument.self, .init(codingPath: decoder.codingPath, debugDescription: "expected an object"))
        }
        self = d
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: BSONKey.self)
        for (k, v) in self { try c.encode(v, forKey: BSONKey(k)) }
    }
}
