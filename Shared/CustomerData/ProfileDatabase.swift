import BSON
import Foundation

/// A profile database of an account: its name and its typed field schema. Lives in the settings
/// store; its profiles live in the customer-data store.
public struct ProfileDatabase: Codable, Sendable, Equatable {
    public var _id: String
    public var accountId: String
    public var name: String
    public var description: String
    public var fields: [FieldDefinition]
    public var createdAt: Date
    public var updatedAt: Date

    public init(accountId: String, name: String, description: String = "", fields: [FieldDefinition]) {
        _id = ObjectId().hex
        self.accountId = accountId
        self.name = name
        self.description = description
        self.fields = fields
        createdAt = Date()
        updatedAt = createdAt
    }

    /// The fields that identify a profile (unique), in schema order.
    public var identifiers: [FieldDefinition] { fields.filter(\.unique) }

    public func field(_ key: String) -> FieldDefinition? { fields.first { $0.key == key } }

    /// The schema every new database starts with: e-mail and phone as identifiers, a name, and an
    /// external id for other systems.
    public static let defaultFields: [FieldDefinition] = [
        FieldDefinition(key: "email", title: "E-mail", type: .email, unique: true, indexed: true),
        FieldDefinition(key: "phone", title: "Phone", type: .phone, unique: true, indexed: true),
        FieldDefinition(key: "external_id", title: "External id", type: .string, unique: true, indexed: true),
        FieldDefinition(key: "first_name", title: "First name", type: .string),
        FieldDefinition(key: "last_name", title: "Last name", type: .string),
    ]

    /// What is wrong with the schema, as (field, message).
    public func schemaProblems() -> [(field: String, message: String)] {
        var found = fields.flatMap { $0.problems() }
        var seen = Set<String>()
        for field in fields where !seen.insert(field.key).inserted { found.append((field.key, "two fields have the key '\(field.key)'")) }
        if fields.count > 500 { found.append(("fields", "a database has at most 500 fields")) }
        return found
    }
}
