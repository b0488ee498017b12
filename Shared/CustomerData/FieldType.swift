/// The type of a profile field. Every value stored in a profile has been checked and normalised
/// for its field's type (``FieldValueParser``).
public enum FieldType: String, Codable, Sendable, CaseIterable {
    case string
    case integer
    case decimal
    case boolean
    case date
    case dateTime = "date_time"
    case email
    /// E.164: `+` and 8 to 15 digits.
    case phone
    /// One of the field's `options`.
    case enumeration = "enum"
    /// A list of strings (interests, tags).
    case stringList = "string_list"
    /// Rows with their own typed columns (orders, transactions, loyalty accounts).
    case table

    /// Types a field may be an identifier of (unique, used to find the same customer again).
    public var canIdentify: Bool {
        switch self {
        case .string, .integer, .email, .phone: true
        default: false
        }
    }
}
