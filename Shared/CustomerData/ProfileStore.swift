import BSON
import Foundation
import Mongo

/// The customer-data store's collections: profiles, their activity, and relations. Every query
/// starts with the account and the database, and every index does too.
public struct ProfileStore: Sendable {
    public let profiles: MongoCollection<Profile>
    public let activity: MongoCollection<ActivityEvent>
    public let relations: MongoCollection<ProfileRelation>

    public init(database: MongoDatabase) {
        profiles = database.collection("profiles", of: Profile.self)
        activity = database.collection("activity", of: ActivityEvent.self)
        relations = database.collection("relations", of: ProfileRelation.self)
    }

    /// The indexes the store always needs.
    public func prepare() async throws {
        try await profiles.createIndexes([IndexModel(keys: ["accountId": 1, "databaseId": 1, "updatedAt": -1], name: "account_database_updated")])
        try await activity.createIndexes([
            IndexModel(keys: ["accountId": 1, "profileId": 1, "at": -1], name: "account_profile_at"),
            IndexModel(keys: ["accountId": 1, "databaseId": 1, "kind": 1, "at": -1], name: "account_database_kind_at"),
        ])
        try await relations.createIndexes([
            IndexModel(keys: ["accountId": 1, "fromId": 1], name: "account_from"),
            IndexModel(keys: ["accountId": 1, "toId": 1], name: "account_to"),
        ])
    }

    /// The indexes a database's schema asks for: a unique index per identifier (only over
    /// profiles that have a value), a plain one per field marked for filtering.
    public func prepare(_ database: ProfileDatabase) async throws {
        var indexes: [IndexModel] = []
        for field in database.fields where field.unique || field.indexed {
            let path = "fields.\(field.key)"
            var keys = BSONDocument()
            keys.append("databaseId", 1)
            keys.append(path, 1)
            if field.unique {
                var exists = BSONDocument()
                exists.append(path, ["$exists": true])
                indexes.append(IndexModel(keys: keys, name: "db_\(field.key)_unique", unique: true, partialFilterExpression: exists))
            } else {
                indexes.append(IndexModel(keys: keys, name: "db_\(field.key)"))
            }
        }
        if !indexes.isEmpty { try await profiles.createIndexes(indexes) }
    }

    public func profile(_ id: String, in database: ProfileDatabase) async throws -> Profile? {
        try await profiles.findOne(["_id": .string(id), "accountId": .string(database.accountId), "databaseId": .string(database._id)])
    }

    /// A page of a database's profiles, newest change first; `search` matches identifiers exactly
    /// (lower-cased for e-mail) or names by prefix.
    public func list(_ database: ProfileDatabase, search: String? = nil, skip: Int = 0, limit: Int = 50) async throws -> [Profile] {
        var filter: BSONDocument = ["accountId": .string(database.accountId), "databaseId": .string(database._id)]
        if let search = search?.trimmingCharacters(in: .whitespaces), !search.isEmpty {
            var alternatives: [BSONValue] = []
            for field in database.fields where field.unique || field.indexed || field.type == .string {
                switch field.type {
                case .email: alternatives.append(.document(["fields.\(field.key)": .string(search.lowercased())]))
                case .phone:
                    if let phone = FieldValueParser.normalizePhone(search) { alternatives.append(.document(["fields.\(field.key)": .string(phone)])) }
                case .integer:
                    if let number = Int64(search) { alternatives.append(.document(["fields.\(field.key)": .int64(number)])) }
                case .string:
                    let pattern = "^" + NSRegularExpression.escapedPattern(for: search)
                    alternatives.append(.document(["fields.\(field.key)": ["$regex": .string(pattern), "$options": "i"]]))
                default: break
                }
            }
            alternatives.append(.document(["_id": .string(search)]))
            filter.append("$or", .array(alternatives))
        }
        return try await profiles.find(filter, options: FindOptions(sort: ["updatedAt": -1, "_id": 1], skip: skip, limit: limit)).collect()
    }

    public func count(_ database: ProfileDatabase) async throws -> Int {
        try await profiles.countDocuments(["accountId": .string(database.accountId), "databaseId": .string(database._id)])
    }

    /// Writes `profile` over the version `expected` read; false when someone else wrote in between.
    public func replace(_ profile: Profile, expecting expected: Int64) async throws -> Bool {
        try await profiles.replaceOne(filter: ["_id": .string(profile._id), "accountId": .string(profile.accountId), "version": .int64(expected)],
                                      replacement: profile).matchedCount == 1
    }

    public func delete(_ profile: Profile) async throws {
        _ = try await profiles.deleteOne(["_id": .string(profile._id), "accountId": .string(profile.accountId)])
        _ = try await relations.deleteMany(["accountId": .string(profile.accountId), "$or": [["fromId": .string(profile._id)], ["toId": .string(profile._id)]]])
    }

    // MARK: Activity

    public func record(_ events: [ActivityEvent]) async throws {
        guard !events.isEmpty else { return }
        _ = try await activity.insertMany(events, ordered: false)
    }

    /// A profile's timeline, newest first; `group` keeps one kind group (`message`, `site`, …).
    public func timeline(of profile: Profile, group: String? = nil, before: Date? = nil, limit: Int = 50) async throws -> [ActivityEvent] {
        var filter: BSONDocument = ["accountId": .string(profile.accountId), "profileId": .string(profile._id)]
        if let group, !group.isEmpty {
            filter.append("kind", ["$regex": .string("^" + NSRegularExpression.escapedPattern(for: group) + "(\\.|$)")])
        }
        if let before { filter.append("at", ["$lt": .date(before)]) }
        return try await activity.find(filter, options: FindOptions(sort: ["at": -1, "_id": -1], limit: limit)).collect()
    }

    // MARK: Relations

    public func relations(of profile: Profile) async throws -> [ProfileRelation] {
        try await relations.find(["accountId": .string(profile.accountId),
                                  "$or": [["fromId": .string(profile._id)], ["toId": .string(profile._id)]]]).collect()
    }
}
