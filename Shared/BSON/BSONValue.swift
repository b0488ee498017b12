import Foundation

/// One BSON value of any type.
public enum BSONValue: Sendable, Hashable {
    case double(Double)
    case string(String)
    case document(BSONDocument)
    case array([BSONValue])
    case binary(BSONBinary)
    case undefined
    case objectId(ObjectId)
    case bool(Bool)
    /// Milliseconds since the Unix epoch, UTC.
    case datetime(Int64)
    case null
    case regularExpression(BSONRegularExpression)
    case javascript(String)
    case symbol(String)
    case int32(Int32)
    case timestamp(BSONTimestamp)
    case int64(Int64)
    case decimal128(Decimal128)
    case minKey
    case maxKey

    package var type: BSONType {
        switch self {
        case .double: .double
        case .string: .string
        case .document: .document
        case .array: .array
        case .binary: .binary
        case .undefined: .undefined
        case .objectId: .objectId
        case .bool: .bool
        case .datetime: .datetime
        case .null: .null
        case .regularExpression: .regularExpression
        case .javascript: .javascript
        case .symbol: .symbol
        case .int32: .int32
        case .timestamp: .timestamp
        case .int64: .int64
        case .decimal128: .decimal128
        case .minKey: .minKey
        case .maxKey: .maxKey
        }
    }

    /// A date as a BSON datetime (millisecond precision).
    public static func date(_ date: Date) -> BSONValue {
        .datetime(Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
    }

    // MARK: Accessors

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var documentValue: BSONDocument? { if case .document(let d) = self { d } else { nil } }
    public var arrayValue: [BSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var objectIdValue: ObjectId? { if case .objectId(let o) = self { o } else { nil } }
    public var doubleValue: Double? {
        switch self {
        case .double(let d): d
        case .int32(let i): Double(i)
        case .int64(let i): Double(i)
        default: nil
        }
    }

    /// Any numeric value that is a whole number, as an `Int`.
    public var intValue: Int? {
        switch self {
        case .int32(let i): Int(i)
        case .int64(let i): Int(exactly: i)
        case .double(let d): Int(exactly: d)
        default: nil
        }
    }

    public var dateValue: Date? {
        if case .datetime(let ms) = self { Date(timeIntervalSince1970: Double(ms) / 1000) } else { nil }
    }
}

extension BSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    /// Integer literals become int32 when they fit, int64 otherwise (as the mongo shell does).
    public init(integerLiteral value: Int) {
        self = Int32(exactly: value).map { .int32($0) } ?? .int64(Int64(value))
    }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: BSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, BSONValue)...) {
        var d = BSONDocument()
        for (k, v) in elements { d.append(k, v) }
        self = .document(d)
    }
    public init(nilLiteral: ()) { self = .null }
}

extension BSONValue: CustomStringConvertible {
    /// Relaxed Extended JSON of the value.
    public var description: String {
        let wrapped: BSONDocument = ["v": self]
        let json = wrapped.description
        // {"v" : X } -> X
        guard let colon = json.firstIndex(of: ":") else { return json }
        return String(json[json.index(after: colon)...].dropLast(1).trimmingCharacters(in: .whitespaces))
    }
}
