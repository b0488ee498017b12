import BSON
import CustomerData
import Foundation
import Mongo
import Security

/// Profile databases, their schemas and their profiles, for the panel and the API alike: every
/// call checks the caller's permissions, stays inside the caller's account, and is audited
/// (changes, and views of a profile card, a sensitive read).
public struct CustomerDataService: Sendable {
    public let databases: MongoCollection<ProfileDatabase>
    public let profiles: ProfileStore
    public let writer: ProfileWriter
    let audit: AuditLog

    public init(settings: MongoDatabase, customers: MongoDatabase, audit: AuditLog) {
        databases = settings.collection("profile_databases", of: ProfileDatabase.self)
        profiles = ProfileStore(database: customers)
        writer = ProfileWriter(store: profiles)
        self.audit = audit
    }

    public func prepare() async throws {
        try await databases.createIndexes([IndexModel(keys: ["accountId": 1, "name": 1], name: "account_name_unique", unique: true)])
        try await profiles.prepare()
    }

    // MARK: Databases

    public func list(for identity: Identity) async throws -> [ProfileDatabase] {
        guard identity.can(.databases, .view) || identity.can(.profiles, .view) else { throw AccessDenied("forbidden_action", "databases:view") }
        return try await databases.find(["accountId": .string(identity.account._id)], options: FindOptions(sort: ["name": 1])).collect()
    }

    /// A database of the caller's account; readable with `databases:view` or `profiles:view`.
    public func database(_ id: String, for identity: Identity) async throws -> ProfileDatabase {
        guard identity.can(.databases, .view) || identity.can(.profiles, .view) else { throw AccessDenied("forbidden_action", "databases:view") }
        guard let filter = SecurityStore.byId(id, in: identity.account._id), let database = try await databases.findOne(filter) else {
            throw ObjectNotFound("database", id)
        }
        return database
    }

    public func createDatabase(name: String, description: String, fields: [FieldDefinition]?, by identity: Identity) async throws -> ProfileDatabase {
        try identity.require(.databases, .create)
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 100 else { throw InvalidInput("name", "name_required") }
        let database = ProfileDatabase(accountId: identity.account._id, name: name, description: description, fields: fields ?? ProfileDatabase.defaultFields)
        if let problem = database.schemaProblems().first { throw InvalidInput("fields", "invalid_setting", "\(problem.field): \(problem.message)") }
        do {
            try await databases.insertOne(database)
        } catch let error as MongoError where error.code == .duplicateKey {
            throw InvalidInput("name", "name_taken", name)
        }
        try await profiles.prepare(database)
        try await audit.record(identity.actor, "database.create", kind: "database", id: database._id, name: name,
                               changes: [.init(field: "fields", before: nil, after: database.fields.map(\.key).joined(separator: " "))])
        return database
    }

    public func renameDatabase(_ id: String, name: String?, description: String?, by identity: Identity) async throws -> ProfileDatabase {
        try identity.require(.databases, .edit)
        let before = try await database(id, for: identity)
        var after = before
        if let name {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, trimmed.count <= 100 else { throw InvalidInput("name", "name_required") }
            after.name = trimmed
        }
        if let description { after.description = description }
        after.updatedAt = Date()
        try await save(after, name: after.name)
        try await audit.record(identity.actor, "database.update", kind: "database", id: id, name: after.name, changes: [
            .init(field: "name", before: before.name, after: after.name), .init(field: "description", before: before.description, after: after.description),
        ].filter { $0.before != $0.after })
        return after
    }

    /// Deletes a database with all its profiles, activity and relations; `confirmation` must be its name.
    public func deleteDatabase(_ id: String, confirmation: String, by identity: Identity) async throws {
        try identity.require(.databases, .delete)
        let database = try await database(id, for: identity)
        guard confirmation == database.name else { throw InvalidInput("confirm", "confirm_name", database.name) }
        let scope: BSONDocument = ["accountId": .string(identity.account._id), "databaseId": .string(database._id)]
        let removed = try await profiles.profiles.deleteMany(scope)
        _ = try await profiles.activity.deleteMany(scope)
        _ = try await profiles.relations.deleteMany(scope)
        _ = try await profiles.identities.deleteMany(["databaseId": .string(database._id)])
        _ = try await databases.deleteOne(["_id": .string(database._id), "accountId": .string(identity.account._id)])
        try await audit.record(identity.actor, "database.delete", kind: "database", id: id, name: database.name,
                               changes: [.init(field: "profiles", before: String(removed), after: nil)])
    }

    func save(_ database: ProfileDatabase, name: String) async throws {
        do {
            _ = try await databases.replaceOne(filter: ["_id": .string(database._id), "accountId": .string(database.accountId)], replacement: database)
        } catch let error as MongoError where error.code == .duplicateKey {
            throw InvalidInput("name", "name_taken", name)
        }
    }

    // MARK: Schema

    public func addField(_ field: FieldDefinition, to id: String, by identity: Identity) async throws -> ProfileDatabase {
        try identity.require(.databases, .edit)
        var database = try await database(id, for: identity)
        guard database.field(field.key) == nil else { throw InvalidInput("key", "field_exists", field.key) }
        database.fields.append(field)
        if let problem = database.schemaProblems().first { throw InvalidInput(problem.field, "invalid_setting", problem.message) }
        if field.required, try await profiles.count(database) > 0 { throw InvalidInput("required", "required_on_existing", field.key) }
        database.updatedAt = Date()
        try await save(database, name: database.name)
        try await profiles.prepare(database)
        try await audit.record(identity.actor, "database.field_add", kind: "database", id: id, name: database.name,
                               changes: [.init(field: field.key, before: nil, after: Self.describe(field))])
        return database
    }

    /// Changes a field's title, flags, options or type. A new type is checked against every
    /// stored value first: when some do not fit, nothing changes and they are reported.
    public func changeField(_ key: String, to new: FieldDefinition, in id: String, by identity: Identity) async throws -> ProfileDatabase {
        try identity.require(.databases, .edit)
        var database = try await database(id, for: identity)
        guard let index = database.fields.firstIndex(where: { $0.key == key }) else { throw ObjectNotFound("field", key) }
        let old = database.fields[index]
        var changed = new
        changed.key = key  // the key never changes: values stay attached to it
        database.fields[index] = changed
        if let problem = database.schemaProblems().first { throw InvalidInput(problem.field, "invalid_setting", problem.message) }
        // Values that would not fit the new definition (type, options, uniqueness, required).
        var conversions: [(Profile, BSONValue)] = []
        var misfits: [String] = []
        var seen = Set<String>()
        var missing = 0
        for try await profile in profiles.profiles.find(["accountId": .string(database.accountId), "databaseId": .string(database._id)]) {
            guard let value = profile[field: key] else {
                if changed.required { missing += 1 }
                continue
            }
            switch FieldValueParser.parse(Self.input(from: value), as: changed) {
            case .success(let converted):
                if changed.unique, !seen.insert("\(converted)").inserted { misfits.append("\(profile._id): \(value.displayText) is not unique") }
                if !converted.isEquivalent(to: value) { conversions.append((profile, converted)) }
            case .failure(let failure):
                misfits.append("\(profile._id): \(failure.message)")
            }
        }
        if missing > 0 { misfits.append("\(missing) profiles have no value") }
        if !misfits.isEmpty {
            throw InvalidInput(key, "field_change_misfits", String(misfits.count), misfits.prefix(5).joined(separator: "; "))
        }
        for (var profile, converted) in conversions {
            let version = profile.version
            profile.merge([(key, converted)])
            profile.version += 1
            profile.updatedAt = Date()
            _ = try await profiles.replace(profile, expecting: version)
        }
        database.updatedAt = Date()
        try await save(database, name: database.name)
        try await profiles.prepare(database)
        if old.unique || changed.unique { try await profiles.rebuildIdentities(of: key, in: database) }
        try await audit.record(identity.actor, "database.field_change", kind: "database", id: id, name: database.name,
                               changes: [.init(field: key, before: Self.describe(old), after: Self.describe(changed))]
                                   + (conversions.isEmpty ? [] : [.init(field: "converted", before: nil, after: String(conversions.count))]))
        return database
    }

    /// Removes a field and its values from every profile; `confirmation` must be its key.
    public func deleteField(_ key: String, from id: String, confirmation: String, by identity: Identity) async throws -> ProfileDatabase {
        try identity.require(.databases, .edit)
        var database = try await database(id, for: identity)
        guard let field = database.field(key) else { throw ObjectNotFound("field", key) }
        guard confirmation == key else { throw InvalidInput("confirm", "confirm_name", key) }
        database.fields.removeAll { $0.key == key }
        database.updatedAt = Date()
        try await save(database, name: database.name)
        _ = try await profiles.identities.deleteMany(["databaseId": .string(database._id), "field": .string(key)])
        var cleared = 0
        var filter: BSONDocument = ["accountId": .string(database.accountId), "databaseId": .string(database._id)]
        filter.append("fields.\(key)", ["$exists": true])
        for try await var profile in profiles.profiles.find(filter) {
            let version = profile.version
            profile.merge([(key, .null)])
            profile.version += 1
            if try await profiles.replace(profile, expecting: version) { cleared += 1 }
        }
        try await audit.record(identity.actor, "database.field_delete", kind: "database", id: id, name: database.name,
                               changes: [.init(field: key, before: Self.describe(field), after: nil), .init(field: "values", before: String(cleared), after: nil)])
        return database
    }

    static func describe(_ field: FieldDefinition) -> String {
        var parts = ["\(field.title) (\(field.type.rawValue))"]
        if field.required { parts.append("required") }
        if field.unique { parts.append("unique") }
        if field.indexed { parts.append("indexed") }
        if !field.options.isEmpty { parts.append("options: " + field.options.joined(separator: ", ")) }
        if !field.columns.isEmpty { parts.append("columns: " + field.columns.map(\.key).joined(separator: ", ")) }
        return parts.joined(separator: ", ")
    }

    /// A stored value as input again, for re-checking it against a changed field.
    static func input(from value: BSONValue) -> FieldInput {
        switch value {
        case .string(let text): .text(text)
        case .int32(let n): .number(Double(n))
        case .int64(let n): .number(Double(n))
        case .double(let n): .number(n)
        case .bool(let b): .bool(b)
        case .datetime: .text(value.dateValue.map { ISO8601DateFormatter().string(from: $0) } ?? "")
        case .array(let items): .list(items.map(input(from:)))
        case .document(let document): .object(Dictionary(document.map { ($0.key, input(from: $0.value)) }, uniquingKeysWith: { a, _ in a }))
        default: .null
        }
    }

    // MARK: Profiles

    public func profile(_ profileId: String, in databaseId: String, for identity: Identity, audited: Bool = true) async throws -> (ProfileDatabase, Profile) {
        try identity.require(.profiles, .view)
        let database = try await database(databaseId, for: identity)
        guard let profile = try await profiles.profile(profileId, in: database) else { throw ObjectNotFound("profile", profileId) }
        if audited {
            try await audit.record(identity.actor, "profile.view", kind: "profile", id: profileId, name: Self.title(of: profile, in: database))
        }
        return (database, profile)
    }

    /// The profile's best name for lists and the audit log: its name, else an identifier, else its id.
    public static func title(of profile: Profile, in database: ProfileDatabase) -> String {
        let name = ["first_name", "last_name"].compactMap { profile[field: $0]?.stringValue }.joined(separator: " ")
        if !name.isEmpty { return name }
        for field in database.identifiers { if let value = profile[field: field.key] { return value.stringValue ?? "\(value)" } }
        return profile._id
    }

    /// Parses raw values against the schema: (checked values, failures). Unknown keys are failures.
    public static func check(_ values: [String: FieldInput], against database: ProfileDatabase) -> ([(String, BSONValue)], [FieldValueParser.Failure]) {
        var parsed: [(String, BSONValue)] = [], failures: [FieldValueParser.Failure] = []
        for (key, input) in values.sorted(by: { $0.key < $1.key }) {
            guard let field = database.field(key) else {
                failures.append(.init(field: key, message: "the database has no field '\(key)'"))
                continue
            }
            var optional = field
            optional.required = false  // required is checked on the whole profile by the writer
            switch FieldValueParser.parse(input, as: optional) {
            case .success(let value): parsed.append((key, value))
            case .failure(let failure): failures.append(failure)
            }
        }
        return (parsed, failures)
    }

    /// Creates or updates profiles from the API or a form; answers one outcome per row.
    public func upsert(_ rows: [(values: [String: FieldInput], subscriptions: [Subscription])], into databaseId: String, mode: ProfileWriter.Mode,
                       source: String, by identity: Identity) async throws -> [ProfileWriter.Outcome]
    {
        try identity.require(.profiles, mode == .update ? .edit : .create)
        if mode != .add { try identity.require(.profiles, .edit) }
        let database = try await database(databaseId, for: identity)
        var outcomes = [ProfileWriter.Outcome?](repeating: nil, count: rows.count)
        var valid: [ProfileWriter.Row] = [], positions: [Int] = []
        for (index, row) in rows.enumerated() {
            let (values, failures) = Self.check(row.values, against: database)
            if let failure = failures.first {
                outcomes[index] = .rejected(failure.description)
            } else {
                valid.append(.init(line: index + 1, values: values, subscriptions: row.subscriptions))
                positions.append(index)
            }
        }
        for start in stride(from: 0, to: valid.count, by: 1000) {
            let batch = Array(valid[start..<min(start + 1000, valid.count)])
            let written = try await writer.write(batch, to: database, mode: mode, source: source)
            for (offset, outcome) in written.enumerated() { outcomes[positions[start + offset]] = outcome }
        }
        let result = outcomes.map { $0! }
        let created = result.filter { if case .created = $0 { true } else { false } }.count
        let updated = result.filter { if case .updated = $0 { true } else { false } }.count
        if rows.count == 1, let id = result[0].profileId {
            try await audit.record(identity.actor, created == 1 ? "profile.create" : "profile.update", kind: "profile", id: id,
                                   name: rows[0].values.keys.sorted().joined(separator: " "))
        } else if rows.count > 1 {
            try await audit.record(identity.actor, "profile.bulk_upsert", kind: "database", id: database._id, name: database.name, changes: [
                .init(field: "created", before: nil, after: String(created)), .init(field: "updated", before: nil, after: String(updated)),
                .init(field: "rejected", before: nil, after: String(result.count - created - updated)),
            ])
        }
        return result
    }

    /// Changes one profile's fields (a `.null` clears) and subscriptions.
    public func updateProfile(_ profileId: String, in databaseId: String, values: [String: FieldInput], subscriptions: [Subscription],
                              source: String, by identity: Identity) async throws -> Profile
    {
        try identity.require(.profiles, .edit)
        let (database, before) = try await profile(profileId, in: databaseId, for: identity, audited: false)
        let (parsed, failures) = Self.check(values, against: database)
        if let failure = failures.first { throw InvalidInput(failure.field, "invalid_value", failure.message) }
        for attempt in 0..<5 {
            guard var current = try await profiles.profile(profileId, in: database) else { throw ObjectNotFound("profile", profileId) }
            let stored = current
            let version = current.version
            current.merge(parsed)
            for subscription in subscriptions { current.subscribe(subscription) }
            if let missing = database.fields.first(where: { $0.required && current[field: $0.key] == nil }) {
                throw InvalidInput(missing.key, "invalid_value", "a value is required")
            }
            let old = ProfileIdentity.all(of: stored, in: database), new = ProfileIdentity.all(of: current, in: database)
            let oldKeys = Set(old.map(\._id)), newKeys = Set(new.map(\._id))
            let claims = new.filter { !oldKeys.contains($0._id) }
            guard try await profiles.claim(claims) else {
                let owners = try await profiles.owners(of: claims.map(\._id))
                let taken = claims.first { owners[$0._id] != nil && owners[$0._id] != profileId }
                throw InvalidInput(taken?.field ?? "fields", "invalid_value", "\(current[field: taken?.field ?? ""]?.displayText ?? "a value") belongs to another profile")
            }
            current.version += 1
            current.updatedAt = Date()
            if try await profiles.replace(current, expecting: version) {
                try await profiles.release(old.filter { !newKeys.contains($0._id) })
                try await profiles.record([ActivityEvent(accountId: database.accountId, databaseId: database._id, profileId: profileId,
                                                         kind: "profile.updated", source: source,
                                                         properties: ["fields": .array(parsed.map { .string($0.0) })])])
                try await audit.record(identity.actor, "profile.update", kind: "profile", id: profileId, name: Self.title(of: current, in: database),
                                       changes: parsed.map { key, value in
                                           .init(field: key, before: before[field: key].map { StoredValueText.text($0) }, after: value == .null ? nil : StoredValueText.text(value))
                                       } + subscriptions.map { .init(field: "subscription \($0.channel.rawValue) \($0.address)", before: nil, after: $0.status.rawValue) })
                return current
            }
            try await profiles.release(claims)
            if attempt == 4 { break }
        }
        throw InvalidInput("version", "profile_busy")
    }

    public func deleteProfile(_ profileId: String, in databaseId: String, by identity: Identity) async throws {
        try identity.require(.profiles, .delete)
        let (database, profile) = try await profile(profileId, in: databaseId, for: identity, audited: false)
        try await profiles.delete(profile)
        _ = try await profiles.activity.deleteMany(["accountId": .string(profile.accountId), "profileId": .string(profile._id)])
        try await audit.record(identity.actor, "profile.delete", kind: "profile", id: profileId, name: Self.title(of: profile, in: database))
    }

    public func relate(_ profileId: String, to otherId: String, kind: String, in databaseId: String, by identity: Identity) async throws -> ProfileRelation {
        try identity.require(.profiles, .edit)
        let (database, profile) = try await profile(profileId, in: databaseId, for: identity, audited: false)
        let kind = kind.trimmingCharacters(in: .whitespaces).lowercased()
        guard ProfileRelation.isValidKind(kind) else { throw InvalidInput("kind", "relation_kind_invalid") }
        guard otherId != profileId else { throw InvalidInput("toId", "relation_to_self") }
        guard let other = try await profiles.profile(otherId, in: database) else { throw InvalidInput("toId", "unknown_profile", otherId) }
        let relation = ProfileRelation(accountId: database.accountId, databaseId: database._id, fromId: profile._id, toId: other._id, kind: kind)
        try await profiles.relations.insertOne(relation)
        try await audit.record(identity.actor, "profile.relate", kind: "profile", id: profileId, name: Self.title(of: profile, in: database),
                               changes: [.init(field: kind, before: nil, after: Self.title(of: other, in: database))])
        return relation
    }

    public func unrelate(_ relationId: String, in databaseId: String, by identity: Identity) async throws {
        try identity.require(.profiles, .edit)
        let database = try await database(databaseId, for: identity)
        guard let relation = try await profiles.relations.findOne(["_id": .string(relationId), "accountId": .string(database.accountId), "databaseId": .string(database._id)])
        else { throw ObjectNotFound("relation", relationId) }
        _ = try await profiles.relations.deleteOne(["_id": .string(relation._id), "accountId": .string(database.accountId)])
        try await audit.record(identity.actor, "profile.unrelate", kind: "profile", id: relation.fromId, name: relation.kind,
                               changes: [.init(field: relation.kind, before: relation.toId, after: nil)])
    }
}
