import BSON
import Foundation
import Mongo

/// Writes batches of incoming rows (from imports, the API, copies) into a database's profiles:
/// finds the same customer by any identifier, merges or creates, and never lets one bad row stop
/// the others. One batch costs one query per identifier field and one bulk write, not a round
/// trip per row.
public struct ProfileWriter: Sendable {
    public let store: ProfileStore

    public init(store: ProfileStore) {
        self.store = store
    }

    /// What to do with a row whose customer exists, or does not.
    public enum Mode: String, Codable, Sendable, CaseIterable {
        /// Create new profiles; leave existing ones alone.
        case add
        /// Change existing profiles; create none.
        case update
        /// Both.
        case upsert
    }

    /// One incoming row, already checked field by field (``FieldValueParser``). A `.null` value
    /// clears the field; a field absent from `values` is left as it is.
    public struct Row: Sendable {
        /// Where it came from (line of a file, index in a request), for the report.
        public var line: Int
        public var values: [(String, BSONValue)]
        public var subscriptions: [Subscription]

        public init(line: Int, values: [(String, BSONValue)], subscriptions: [Subscription] = []) {
            self.line = line
            self.values = values
            self.subscriptions = subscriptions
        }
    }

    public enum Outcome: Sendable, Equatable {
        case created(String)
        case updated(String)
        case unchanged(String)
        /// Not written by the mode's choice (e.g. an existing customer in `add` mode).
        case skipped(String)
        /// Not written because it is wrong; the reason says how.
        case rejected(String)

        public var profileId: String? {
            switch self {
            case .created(let id), .updated(let id), .unchanged(let id): id
            default: nil
            }
        }
    }

    /// Writes `rows` and answers one outcome per row, in order.
    public func write(_ rows: [Row], to database: ProfileDatabase, mode: Mode, source: String) async throws -> [Outcome] {
        for attempt in 0..<4 {
            let plan = try await plan(rows, database: database, mode: mode)
            if try await apply(plan, database: database, source: source) { return plan.outcomes }
            // Someone else wrote one of these profiles in between (a version or unique-key clash):
            // read again and redo. Three tries, then one row at a time.
            if attempt == 2, rows.count > 1 {
                var outcomes: [Outcome] = []
                for row in rows { outcomes += try await write([row], to: database, mode: mode, source: source) }
                return outcomes
            }
        }
        return rows.map { _ in .rejected("the profile kept changing while it was written; send the row again") }
    }

    struct Plan {
        var outcomes: [Outcome] = []
        var inserts: [Profile] = []
        /// Changed profiles with the version they were read at.
        var replaces: [(Profile, Int64)] = []
        var events: [(profileId: String, kind: String, line: Int)] = []
        /// Identifier values taken by these rows, and values given up.
        var claims: [ProfileIdentity] = []
        var releases: [ProfileIdentity] = []
    }


    func plan(_ rows: [Row], database: ProfileDatabase, mode: Mode) async throws -> Plan {
        let identifiers = database.identifiers
        // Every profile any row's identifiers point at: one look-up by key, then one by id.
        var keys = Set<String>()
        for row in rows {
            for field in identifiers {
                if let value = row.values.first(where: { $0.0 == field.key })?.1, value != .null {
                    keys.insert(ProfileIdentity.key(database: database._id, field: field.key, value: value))
                }
            }
        }
        var byIdentity = try await store.owners(of: Array(keys))
        var profiles: [String: Profile] = [:]
        var original: [String: Int64] = [:]
        var originals: [String: Profile] = [:]
        let ids = Array(Set(byIdentity.values))
        for start in stride(from: 0, to: ids.count, by: 5000) {
            let slice = ids[start..<min(ids.count, start + 5000)].map { BSONValue.string($0) }
            for try await profile in store.profiles.find(["_id": ["$in": .array(slice)], "accountId": .string(database.accountId), "databaseId": .string(database._id)]) {
                profiles[profile._id] = profile
                originals[profile._id] = profile
                original[profile._id] = profile.version
            }
        }
        // An identity whose profile is gone (deleted in between) points nowhere.
        byIdentity = byIdentity.filter { profiles[$0.value] != nil }
        var plan = Plan()
        var created = Set<String>(), updated = Set<String>()
        for row in rows {
            let rowIdentities = identifiers.compactMap { field -> (String, BSONValue)? in
                guard let value = row.values.first(where: { $0.0 == field.key })?.1, value != .null else { return nil }
                return (field.key, value)
            }
            if !identifiers.isEmpty, rowIdentities.isEmpty {
                plan.outcomes.append(.rejected("no identifier: give at least one of \(identifiers.map(\.key).joined(separator: ", "))"))
                continue
            }
            let matches = Set(rowIdentities.compactMap { byIdentity[ProfileIdentity.key(database: database._id, field: $0.0, value: $0.1)] })
            if matches.count > 1 {
                let described = rowIdentities.map { "\($0.0) \($0.1.displayText)" }.joined(separator: " and ")
                plan.outcomes.append(.rejected("\(described) belong to different profiles; fix the row or merge those profiles first"))
                continue
            }
            if let id = matches.first, var profile = profiles[id] {
                guard mode != .add else {
                    plan.outcomes.append(.skipped("a profile with these identifiers exists (add-only import)"))
                    continue
                }
                let before = profile
                profile.merge(row.values)
                for subscription in row.subscriptions { profile.subscribe(subscription) }
                if let missing = database.fields.first(where: { $0.required && profile[field: $0.key] == nil }) {
                    plan.outcomes.append(.rejected("\(missing.key): a value is required"))
                    continue
                }
                // A changed identifier must not take another profile's value.
                if let clash = identifiers.first(where: { field in
                    profile[field: field.key].map { byIdentity[ProfileIdentity.key(database: database._id, field: field.key, value: $0)].map { $0 != id } ?? false } ?? false
                }) {
                    plan.outcomes.append(.rejected("\(clash.key) \(profile[field: clash.key]!.displayText) belongs to another profile"))
                    continue
                }
                if profile.fields.isEquivalent(to: before.fields) && profile.subscriptions == before.subscriptions {
                    plan.outcomes.append(.unchanged(id))
                    continue
                }
                for field in identifiers {
                    if let old = before[field: field.key] { byIdentity[ProfileIdentity.key(database: database._id, field: field.key, value: old)] = nil }
                    if let new = profile[field: field.key] { byIdentity[ProfileIdentity.key(database: database._id, field: field.key, value: new)] = id }
                }
                profile.updatedAt = Date()
                profiles[id] = profile
                plan.outcomes.append(created.contains(id) ? .created(id) : .updated(id))
                if !created.contains(id) {
                    updated.insert(id)
                    plan.events.append((id, "profile.updated", row.line))
                }
            } else {
                guard mode != .update else {
                    plan.outcomes.append(.skipped("no profile has these identifiers (update-only import)"))
                    continue
                }
                var profile = Profile(accountId: database.accountId, databaseId: database._id)
                profile.merge(row.values)
                for subscription in row.subscriptions { profile.subscribe(subscription) }
                if let missing = database.fields.first(where: { $0.required && profile[field: $0.key] == nil }) {
                    plan.outcomes.append(.rejected("\(missing.key): a value is required"))
                    continue
                }
                profiles[profile._id] = profile
                created.insert(profile._id)
                for (key, value) in rowIdentities { byIdentity[ProfileIdentity.key(database: database._id, field: key, value: value)] = profile._id }
                plan.outcomes.append(.created(profile._id))
                plan.events.append((profile._id, "profile.created", row.line))
            }
        }
        for id in created {
            plan.inserts.append(profiles[id]!)
            plan.claims += ProfileIdentity.all(of: profiles[id]!, in: database)
        }
        for id in updated {
            let new = ProfileIdentity.all(of: profiles[id]!, in: database), old = ProfileIdentity.all(of: originals[id]!, in: database)
            let newKeys = Set(new.map(\._id)), oldKeys = Set(old.map(\._id))
            plan.claims += new.filter { !oldKeys.contains($0._id) }
            plan.releases += old.filter { !newKeys.contains($0._id) }
        }
        for (id, version) in original {
            guard updated.contains(id), let profile = profiles[id] else { continue }
            var next = profile
            next.version = version + 1
            plan.replaces.append((next, version))
        }
        return plan
    }

    /// Writes a plan in one unordered bulk write; false when a clash means it must be planned again.
    func apply(_ plan: Plan, database: ProfileDatabase, source: String) async throws -> Bool {
        var operations: [BulkWriteOperation<Profile>] = plan.inserts.map { .insertOne($0) }
        for (profile, version) in plan.replaces {
            operations.append(.replaceOne(filter: ["_id": .string(profile._id), "accountId": .string(profile.accountId), "version": .int64(version)],
                                          replacement: profile))
        }
        guard !operations.isEmpty else { return true }
        // Claim the identifier values first: a value another writer holds sends the batch back to planning.
        guard try await store.claim(plan.claims) else { return false }
        do {
            // Inserts alone go as one insertMany; with replaces, one unordered bulk write.
            let matched: Int
            if plan.replaces.isEmpty {
                _ = try await store.profiles.insertMany(plan.inserts, ordered: false)
                matched = 0
            } else {
                matched = try await store.profiles.bulkWrite(operations, ordered: false).matchedCount
            }
            if matched < plan.replaces.count { return try await undo(plan, database: database) }
        } catch let error as MongoError where error.code == .duplicateKey {
            return try await undo(plan, database: database)
        }
        try await store.release(plan.releases)
        let now = Date()
        try await store.record(plan.events.map { event in
            ActivityEvent(accountId: database.accountId, databaseId: database._id, profileId: event.profileId, at: now, kind: event.kind,
                          source: source, properties: event.line > 0 ? ["line": .int64(Int64(event.line))] : [:])
        })
        return true
    }

    /// After a clash the whole batch is planned again: remove what this attempt inserted and
    /// claimed, so the next plan finds those customers as new again rather than twice.
    private func undo(_ plan: Plan, database: ProfileDatabase) async throws -> Bool {
        try await store.release(plan.claims)
        let ids = plan.inserts.map { BSONValue.string($0._id) }
        if !ids.isEmpty { _ = try await store.profiles.deleteMany(["_id": ["$in": .array(ids)]]) }
        // Some replaces may have gone through: their identities follow what is stored now.
        try await store.repairIdentities(of: plan.replaces.map(\.0._id), in: database)
        return false
    }
}

extension BSONValue {
    /// The value as a person would write it, for messages.
    public var displayText: String {
        switch self {
        case .string(let text): "'\(text)'"
        case .int32(let n): String(n)
        case .int64(let n): String(n)
        case .double(let n): String(n)
        case .bool(let b): String(b)
        default: "\(self)"
        }
    }
}
