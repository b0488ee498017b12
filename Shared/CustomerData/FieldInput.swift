import Foundation

/// A value as it arrives, before it is checked against its field: text from a file or a form, or
/// a JSON value from the API.
public enum FieldInput: Sendable, Equatable, Decodable {
    case null
    case text(String)
    case number(Double)
    case bool(Bool)
    case list([FieldInput])
    case object([String: FieldInput])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .text(value)
        } else if let value = try? container.decode([FieldInput].self) {
            self = .list(value)
        } else {
            self = .object(try container.decode([String: FieldInput].self))
        }
    }

    /// A value from `JSONSerialization`.
    public init(json: Any) {
        switch json {
        case let text as String: self = .text(text)
        case let number as NSNumber:
            // JSON's true and false arrive as NSNumbers of C type char ("c"); numbers as the others.
            if String(cString: number.objCType) == "c" { self = .bool(number.boolValue) } else { self = .number(number.doubleValue) }
        case let list as [Any]: self = .list(list.map(FieldInput.init(json:)))
        case let object as [String: Any]: self = .object(object.mapValues(FieldInput.init(json:)))
        default: self = .null
        }
    }

    /// True for null, an empty text and an empty list: "no value".
    public var isEmpty: Bool {
        switch self {
        case .null: true
        case .text(let text): text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        case .list(let items): items.isEmpty
        default: false
        }
    }
}
