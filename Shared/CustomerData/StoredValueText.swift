import BSON
import Foundation

/// A stored field value written out: as the text an import reads back (exports, copies, forms),
/// and as JSON (the API).
public enum StoredValueText {
    /// The value as text an import parses to the same value: numbers as digits, booleans as
    /// true/false, date-times in ISO 8601, lists of texts joined with `; `, tables and other
    /// lists as JSON.
    public static func text(_ value: BSONValue?) -> String {
        guard let value else { return "" }
        switch value {
        case .string(let text): return text
        case .int32(let n): return String(n)
        case .int64(let n): return String(n)
        case .double(let n): return n.rounded() == n && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .bool(let b): return b ? "true" : "false"
        case .datetime: return value.dateValue.map { ISO8601DateFormatter().string(from: $0) } ?? ""
        case .array(let items) where items.allSatisfy({ $0.stringValue != nil }): return items.compactMap(\.stringValue).joined(separator: "; ")
        case .array, .document:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return (try? encoder.encode(StoredValueJSON(value: value))).map { String(decoding: $0, as: UTF8.self) } ?? ""
        default: return ""
        }
    }
}

/// A stored value as JSON: numbers, text, booleans, lists and objects as they are (object keys in
/// stored order); date-times as ISO 8601 text; anything else as null.
public struct StoredValueJSON: Encodable {
    public let value: BSONValue

    public init(value: BSONValue) {
        self.value = value
    }

    struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        switch value {
        case .array(let items):
            var container = encoder.unkeyedContainer()
            for item in items { try container.encode(StoredValueJSON(value: item)) }
        case .document(let document):
            var container = encoder.container(keyedBy: Key.self)
            for (key, item) in document { try container.encode(StoredValueJSON(value: item), forKey: Key(stringValue: key)) }
        default:
            var container = encoder.singleValueContainer()
            switch value {
            case .string(let text): try container.encode(text)
            case .int32(let n): try container.encode(n)
            case .int64(let n): try container.encode(n)
            case .double(let n): try container.encode(n)
            case .bool(let b): try container.encode(b)
            case .datetime: try container.encode(value.dateValue.map { ISO8601DateFormatter().string(from: $0) } ?? "")
            case .objectId(let id): try container.encode(id.hex)
            default: try container.encodeNil()
            }
        }
    }
}
