import BSON

/// One identifier value of one profile (`email` = `anna@example.com`), keyed by database, field
/// and value. Finding customers by identifier is a look-up by `_id` — the fastest query every
/// store has — and `_id` uniqueness makes two writers claiming the same value impossible.
public struct ProfileIdentity: Codable, Sendable, Equatable {
    /// `<database id>␟<field>␟<value>`.
    public var _id: String
    public var accountId: String
    public var databaseId: String
    public var field: String
    public var profileId: String

    public init(database: ProfileDatabase, field: String, value: BSONValue, profileId: String) {
        _id = Self.key(database: database._id, field: field, value: value)
        accountId = database.accountId
        databaseId = database._id
        self.field = field
        self.profileId = profileId
    }

    /// The key of an identifier value; integers and texts never collide.
    public static func key(database: String, field: String, value: BSONValue) -> String {
        let text: String = switch value {
        case .string(let s): "s:" + s
        case .int32(let n): "i:\(n)"
        case .int64(let n): "i:\(n)"
        default: "x:\(value)"
        }
        return database + "\u{1F}" + field + "\u{1F}" + text
    }

    /// Every identity a profile holds under the database's identifiers.
    public static func all(of profile: Profile, in database: ProfileDatabase) -> [ProfileIdentity] {
        database.identifiers.compactMap { field in
            profile[field: field.key].map { ProfileIdentity(database: database, field: field.key, value: $0, profileId: profile._id) }
        }
    }
}
