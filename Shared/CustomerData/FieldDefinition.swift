/// One field of a profile database's schema.
public struct FieldDefinition: Codable, Sendable, Equatable {
    /// The machine name: lower-case letters, digits and `_`, starting with a letter. Stays the same
    /// when the field is renamed (the title changes), so values are never lost.
    public var key: String
    /// The name people see.
    public var title: String
    public var type: FieldType
    /// A profile must have a value.
    public var required: Bool
    /// Identifies a profile: no two profiles of the database share a value, and imports find the
    /// same customer by it.
    public var unique: Bool
    /// Indexed for filtering and segments.
    public var indexed: Bool
    /// The allowed values of an `enum` field.
    public var options: [String]
    /// The columns of a `table` field (their own `columns` are empty: tables do not nest).
    public var columns: [FieldDefinition]

    public init(key: String, title: String, type: FieldType, required: Bool = false, unique: Bool = false, indexed: Bool = false,
                options: [String] = [], columns: [FieldDefinition] = [])
    {
        self.key = key
        self.title = title
        self.type = type
        self.required = required
        self.unique = unique
        self.indexed = indexed
        self.options = options
        self.columns = columns
    }

    private enum CodingKeys: String, CodingKey { case key, title, type, required, unique, indexed, options, columns }

    /// Flags and lists may be left out (false, empty), so an API client sends only what it means.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        key = try c.decodeIfPresent(String.self, forKey: .key) ?? ""
        title = try c.decodeIfPresent(String.self, forKey: .title) ?? key
        type = try c.decode(FieldType.self, forKey: .type)
        required = try c.decodeIfPresent(Bool.self, forKey: .required) ?? false
        unique = try c.decodeIfPresent(Bool.self, forKey: .unique) ?? false
        indexed = try c.decodeIfPresent(Bool.self, forKey: .indexed) ?? false
        options = try c.decodeIfPresent([String].self, forKey: .options) ?? []
        columns = try c.decodeIfPresent([FieldDefinition].self, forKey: .columns) ?? []
    }

    /// What is wrong with the definition, as (field, message); `path` prefixes nested columns.
    public func problems(path: String = "") -> [(field: String, message: String)] {
        var found: [(String, String)] = []
        let at = path.isEmpty ? key : path + "." + key
        if !Self.isValidKey(key) {
            found.append((at, "a field key is 1–64 lower-case letters, digits and _, starting with a letter"))
        }
        if title.trimmingCharacters(in: .whitespaces).isEmpty { found.append((at, "give the field a title")) }
        if unique, !type.canIdentify { found.append((at, "only string, integer, email and phone fields can be unique identifiers")) }
        if type == .enumeration, options.isEmpty { found.append((at, "an enum field needs at least one option")) }
        if type == .enumeration, Set(options).count != options.count { found.append((at, "the options of an enum field must differ")) }
        if type == .table {
            if columns.isEmpty { found.append((at, "a table field needs at least one column")) }
            if !path.isEmpty { found.append((at, "tables do not nest")) }
            if Set(columns.map(\.key)).count != columns.count { found.append((at, "column keys must differ")) }
            for column in columns { found += column.problems(path: at) }
        } else if !columns.isEmpty {
            found.append((at, "only table fields have columns"))
        }
        return found
    }

    public static func isValidKey(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, (1...64).contains(key.count), ("a"..."z").contains(first) else { return false }
        return key.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
