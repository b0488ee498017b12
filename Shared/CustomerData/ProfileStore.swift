import BSON
import Foundation
import Mongo

/// The customer-data store's collections: profiles, their activity, and relations. Every query
/// starts with the account and the database, and every index does too.
public struct ProfileStore: Sendable {
    public let profiles: MongoCollection<Profile>
    public let activity: MongoCollection<ActivityEvent>
    public let relations: MongoCollection<ProfileRelation>
    public let identities: MongoCollection<ProfileIdentity>
    /// Site activity of visitors who have not identified yet (moved to the profile when they do).
    public let anonymousActivity: MongoCollection<ActivityEvent>

    public init(database: MongoDatabase) {
        profiles = database.collection("profiles", of: Profile.self)
        activity = database.collection("activity", of: ActivityEvent.self)
        relations = database.collection("relations", of: ProfileRelation.self)
        identities = database.collection("profile_identities", of: ProfileIdentity.self)
        anonymousActivity = database.collection("anonymous_activity", of: ActivityEvent.self)
    }

    /// The indexes the store always needs.
    public func prepare() async throws {
        try await profiles.createIndexes([IndexModel(keys: ["accountId": 1, "databaseId": 1, "updatedAt": -1], name: "account_database_updated")])
        try await activity.createIndexes([
            IndexModel(keys: ["accountId": 1, "profileId": 1, "at": -1], name: "account_profile_at"),
            IndexModel(keys: ["accountId": 1, "databaseId": 1, "kind": 1, "at": -1], name: "account_database_kind_at"),
        ])
        try await identities.createIndexes([
            IndexModel(keys: ["profileId": 1], name: "profile"),
            IndexModel(keys: ["databaseId": 1, "field": 1], name: "database_field"),
        ])
        try await anonymousActivity.createIndexes([IndexModel(keys: ["accountId": 1, "databaseId": 1, "properties.visitor": 1], name: "account_database_visitor")])
        try await relations.createIndexes([
            IndexModel(keys: ["accountId": 1, "fromId": 1], name: "account_from"),
            IndexModel(keys: ["accountId": 1, "toId": 1], name: "account_to"),
            IndexModel(keys: ["accountId": 1, "databaseId": 1, "kind": 1], name: "account_database_kind"),
        ])
    }

    /// The indexes a database's schema asks for: one per field marked for filtering. Identifiers
    /// need none on the profiles: they are found, and kept unique, through `profile_identities`.
    public func prepare(_ database: ProfileDatabase) async throws {
        var indexes: [IndexModel] = []
        for field in database.fields where field.indexed && !field.unique {
            var keys = BSONDocument()
            keys.append("databaseId", 1)
            keys.append("fields.\(field.key)", 1)
            indexes.append(IndexModel(keys: keys, name: "db_\(field.key)"))
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
            // An identifier value: straight to its profile.
            var keys: [String] = []
            for field in database.identifiers {
                var optional = field
                optional.required = false
                if case .success(let value) = FieldValueParser.parse(.text(search), as: optional), value != .null {
                    keys.append(ProfileIdentity.key(database: database._id, field: field.key, value: value))
                }
            }
            let owners = try await owners(of: keys)
            var alternatives: [BSONValue] = [.document(["_id": .string(search)])]
            if !owners.isEmpty { alternatives.append(.document(["_id": ["$in": .array(Set(owners.values).map { .string($0) })]])) }
            // Otherwise names and other texts by prefix.
            for field in database.fields where field.type == .string && !field.unique {
                let pattern = "^" + NSRegularExpression.escapedPattern(for: search)
                alternatives.append(.document(["fields.\(field.key)": ["$regex": .string(pattern), "$options": "i"]]))
            }
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
        _ = try await identities.deleteMany(["profileId": .string(profile._id)])
        _ = try await relations.deleteMany(["accountId": .string(profile.accountId), "$or": [["fromId": .string(profile._id)], ["toId": .string(profile._id)]]])
    }

    // MARK: Identities

    /// The profile ids the given identity keys belong to.
    public func owners(of keys: [String]) async throws -> [String: String] {
        var owners: [String: String] = [:]
        for start in stride(from: 0, to: keys.count, by: 5000) {
            let slice = keys[start..<min(keys.count, start + 5000)].map { BSONValue.string($0) }
            for try await identity in identities.find(["_id": ["$in": .array(slice)]]) { owners[identity._id] = identity.profileId }
        }
        return owners
    }

    /// Claims identities for their profiles; false (and nothing claimed) when one is taken.
    public func claim(_ claims: [ProfileIdentity]) async throws -> Bool {
        guard !claims.isEmpty else { return true }
        do {
            _ = try await identities.insertMany(claims, ordered: false)
            return true
        } catch let error as MongoError where error.code == .duplicateKey {
            try await release(claims)
            return false
        }
    }

    /// Gives up identities, each only if still held by the profile that claimed it.
    public func release(_ claims: [ProfileIdentity]) async throws {
        for (profileId, group) in Dictionary(grouping: claims, by: \.profileId) {
            _ = try await identities.deleteMany(["_id": ["$in": .array(group.map { .string($0._id) })], "profileId": .string(profileId)])
        }
    }

    /// Makes the identities of these profiles exactly what their stored values say (after a write
    /// that only partly went through).
    public func repairIdentities(of profileIds: [String], in database: ProfileDatabase) async throws {
        guard !profileIds.isEmpty else { return }
        _ = try await identities.deleteMany(["profileId": ["$in": .array(profileIds.map { .string($0) })]])
        var current: [ProfileIdentity] = []
        for try await profile in profiles.find(["_id": ["$in": .array(profileIds.map { .string($0) })], "accountId": .string(database.accountId)]) {
            current += ProfileIdentity.all(of: profile, in: database)
        }
        for identity in current {
            do { try await identities.insertOne(identity) } catch let error as MongoError where error.code == .duplicateKey { continue }
        }
    }

    /// Rebuilds the identities of one field from the stored profiles (after a schema change).
    public func rebuildIdentities(of field: String, in database: ProfileDatabase) async throws {
        _ = try await identities.deleteMany(["databaseId": .string(database._id), "field": .string(field)])
        guard database.field(field)?.unique == true else { return }
        var batch: [ProfileIdentity] = []
        for try await profile in profiles.find(["accountId": .string(database.accountId), "databaseId": .string(database._id)]) {
            if let value = profile[field: field] { batch.append(ProfileIdentity(database: database, field: field, value: value, profileId: profile._id)) }
            if batch.count == 1000 {
                _ = try await identities.insertMany(batch, ordered: false)
                batch.removeAll()
            }
        }
        if !batch.isEmpty { _ = try await identities.insertMany(batch, ordered: false) }
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
