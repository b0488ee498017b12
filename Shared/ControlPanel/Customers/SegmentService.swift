import Audiences
import BSON
import CustomerData
import Foundation
import Mongo
import Security

/// Segments for the panel and the API: dynamic ones counted and previewed by running their rule
/// in the store, fixed ones as member lists (from a snapshot or added from the card). Every change
/// is audited; a rule with errors is refused at the rule that is wrong.
public struct SegmentService: Sendable {
    public let segments: MongoCollection<Segment>
    public let audience: AudienceQuery
    public var members: MongoCollection<SegmentMember> { audience.members }
    let customers: CustomerDataService
    let audit: AuditLog

    public init(settings: MongoDatabase, customersStore: MongoDatabase, customers: CustomerDataService, audit: AuditLog) {
        segments = settings.collection(Segment.collectionName, of: Segment.self)
        audience = AudienceQuery(database: customersStore)
        self.customers = customers
        self.audit = audit
    }

    public func prepare() async throws {
        try await segments.createIndexes([IndexModel(keys: ["accountId": 1, "databaseId": 1, "name": 1], name: "account_database_name_unique", unique: true)])
        try await members.createIndexes([IndexModel(keys: ["segmentId": 1], name: "segment"), IndexModel(keys: ["profileId": 1], name: "profile")])
    }

    /// The database's segments (rules may name each other).
    func all(in database: ProfileDatabase) async throws -> [Segment] {
        try await segments.find(["accountId": .string(database.accountId), "databaseId": .string(database._id)]).collect()
    }

    /// The rule checked against the database's schema and its other segments.
    func checked(_ rule: SegmentRule, in database: ProfileDatabase) async throws -> CheckedRule {
        try await checked(Self.unsaved(rule, in: database), in: database)
    }

    /// A dynamic segment that is not stored (no id), to check a rule being written.
    static func unsaved(_ rule: SegmentRule, in database: ProfileDatabase) -> Segment {
        var segment = Segment(accountId: database.accountId, databaseId: database._id, name: "", kind: .dynamic, rule: rule)
        segment._id = ""
        return segment
    }

    func checked(_ segment: Segment, in database: ProfileDatabase) async throws -> CheckedRule {
        do {
            return try AudienceQuery.rule(of: segment, in: database, segments: try await all(in: database))
        } catch let failure as RuleErrors {
            throw InvalidInput(failure.errors[0].path, "rule_invalid", failure.errors.map(\.description).joined(separator: "; "))
        }
    }

    public func list(in databaseId: String, for identity: Identity) async throws -> [Segment] {
        try identity.require(.segments, .view)
        let database = try await customers.database(databaseId, for: identity)
        return try await segments.find(["accountId": .string(identity.account._id), "databaseId": .string(database._id)], options: FindOptions(sort: ["name": 1])).collect()
            .filter { $0.sendingId == nil }
    }

    public func segment(_ id: String, for identity: Identity) async throws -> (Segment, ProfileDatabase) {
        try identity.require(.segments, .view)
        guard ObjectId(id) != nil, let segment = try await segments.findOne(["_id": .string(id), "accountId": .string(identity.account._id)]) else {
            throw ObjectNotFound("segment", id)
        }
        return (segment, try await customers.database(segment.databaseId, for: identity))
    }

    public func create(in databaseId: String, name: String, kind: Segment.Kind, rule: SegmentRule?, by identity: Identity) async throws -> Segment {
        try identity.require(.segments, .create)
        let database = try await customers.database(databaseId, for: identity)
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 100 else { throw InvalidInput("name", "name_required") }
        if kind == .dynamic {
            guard let rule else { throw InvalidInput("rule", "rule_invalid", "a dynamic segment needs a rule") }
            _ = try await checked(rule, in: database)
        }
        let segment = Segment(accountId: identity.account._id, databaseId: database._id, name: name, kind: kind, rule: kind == .dynamic ? rule : nil)
        do {
            try await segments.insertOne(segment)
        } catch let error as MongoError where error.code == .duplicateKey {
            throw InvalidInput("name", "name_taken", name)
        }
        try await audit.record(identity.actor, "segment.create", kind: "segment", id: segment._id, name: name,
                               changes: [.init(field: "kind", before: nil, after: kind.rawValue), .init(field: "rule", before: nil, after: try Self.json(rule))])
        return segment
    }

    public func update(_ id: String, name: String?, rule: SegmentRule?, by identity: Identity) async throws -> Segment {
        try identity.require(.segments, .edit)
        let (before, database) = try await segment(id, for: identity)
        var after = before
        if let name {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, trimmed.count <= 100 else { throw InvalidInput("name", "name_required") }
            after.name = trimmed
        }
        if let rule {
            guard before.kind == .dynamic else { throw InvalidInput("rule", "rule_invalid", "a fixed segment has members, not a rule") }
            after.rule = rule
            _ = try await checked(after, in: database)
        }
        after.updatedAt = Date()
        do {
            _ = try await segments.replaceOne(filter: ["_id": .string(id), "accountId": .string(identity.account._id)], replacement: after)
        } catch let error as MongoError where error.code == .duplicateKey {
            throw InvalidInput("name", "name_taken", after.name)
        }
        try await audit.record(identity.actor, "segment.update", kind: "segment", id: id, name: after.name, changes: [
            .init(field: "name", before: before.name, after: after.name), .init(field: "rule", before: try Self.json(before.rule), after: try Self.json(after.rule)),
        ].filter { $0.before != $0.after })
        return after
    }

    public func delete(_ id: String, by identity: Identity) async throws {
        try identity.require(.segments, .delete)
        let (segment, _) = try await segment(id, for: identity)
        let users = try await segments.find(["accountId": .string(identity.account._id), "databaseId": .string(segment.databaseId)]).collect()
            .filter { (try? Self.json($0.rule))??.contains("\"segment\":\"\(id)\"") ?? false }
        guard users.isEmpty else { throw InvalidInput("segment", "segment_in_use", users.map(\.name).joined(separator: ", ")) }
        _ = try await segments.deleteOne(["_id": .string(id), "accountId": .string(identity.account._id)])
        _ = try await members.deleteMany(["segmentId": .string(id)])
        try await audit.record(identity.actor, "segment.delete", kind: "segment", id: id, name: segment.name)
    }

    /// The store filter of a segment's profiles.
    public func filter(_ segment: Segment, database: ProfileDatabase) async throws -> BSONDocument {
        try await audience.filter(try await checked(segment, in: database), accountId: segment.accountId, databaseId: segment.databaseId)
    }

    /// What an unsaved rule selects (the builder's live answer while a rule is edited): its count
    /// and a sample, or every error at its place.
    public enum Preview: Sendable {
        case matches(count: Int, sample: [Profile], database: ProfileDatabase)
        case invalid(RuleErrors)
    }

    public func preview(_ rule: SegmentRule, in databaseId: String, limit: Int = 10, for identity: Identity) async throws -> Preview {
        try identity.require(.segments, .view)
        let database = try await customers.database(databaseId, for: identity)
        let checked: CheckedRule
        do {
            checked = try AudienceQuery.rule(of: Self.unsaved(rule, in: database), in: database, segments: try await all(in: database))
        } catch let errors as RuleErrors {
            return .invalid(errors)
        }
        let filter = try await audience.filter(checked, accountId: database.accountId, databaseId: database._id)
        let count = try await customers.profiles.profiles.countDocuments(filter)
        let sample = identity.can(.profiles, .view)
            ? try await customers.profiles.profiles.find(filter, options: FindOptions(sort: ["updatedAt": -1, "_id": 1], limit: limit)).collect() : []
        return .matches(count: count, sample: sample, database: database)
    }

    /// Whether one profile is in the segment now, decided in process the way triggers decide.
    public func contains(_ profileId: String, in id: String, for identity: Identity) async throws -> Bool {
        try identity.require(.profiles, .view)
        let (segment, database) = try await segment(id, for: identity)
        guard let profile = try await customers.profiles.profile(profileId, in: database) else { throw ObjectNotFound("profile", profileId) }
        return try await audience.matches(try await checked(segment, in: database), profile)
    }

    public func count(_ id: String, for identity: Identity) async throws -> Int {
        let (segment, database) = try await segment(id, for: identity)
        return try await customers.profiles.profiles.countDocuments(try await filter(segment, database: database))
    }

    /// Up to `limit` profiles of the segment, most recently changed first.
    public func sample(_ id: String, limit: Int = 20, for identity: Identity) async throws -> [Profile] {
        try identity.require(.profiles, .view)
        let (segment, database) = try await segment(id, for: identity)
        return try await customers.profiles.profiles.find(try await filter(segment, database: database),
                                                          options: FindOptions(sort: ["updatedAt": -1, "_id": 1], limit: limit)).collect()
    }

    /// A fixed copy of a segment's members now (a dynamic segment's snapshot). For a sending
    /// (`sendingId`), the copy is made once: asking again returns it (completing it first if an
    /// earlier attempt was interrupted), so a campaign that restarts neither skips nor doubles a
    /// recipient. Copies for sendings are listed on their segment's page, not among segments.
    public func freeze(_ id: String, name: String, sendingId: String? = nil, by identity: Identity) async throws -> Segment {
        try identity.require(.segments, .create)
        let (source, database) = try await segment(id, for: identity)
        var frozen: Segment
        let count: Int
        if let sendingId {
            (frozen, count) = try await audience.frozenCopy(of: source, in: database, segments: segments, sendingId: sendingId)
        } else {
            frozen = try await create(in: database._id, name: name, kind: .fixed, rule: nil, by: identity)
            frozen.frozenFrom = source._id
            count = try await audience.freeze(source, in: database, segments: try await all(in: database), into: frozen)
            frozen.frozenAt = Date()
            _ = try await segments.replaceOne(filter: ["_id": .string(frozen._id)], replacement: frozen)
        }
        try await audit.record(identity.actor, "segment.freeze", kind: "segment", id: frozen._id, name: frozen.name,
                               changes: [.init(field: "from", before: nil, after: source.name), .init(field: "members", before: nil, after: String(count)),
                                         .init(field: "sending", before: nil, after: sendingId)].filter { $0.after != nil })
        return frozen
    }

    /// The copies of a segment frozen for sendings, newest first.
    public func sendingCopies(of id: String, for identity: Identity) async throws -> [Segment] {
        let (source, _) = try await segment(id, for: identity)
        return try await segments.find(["accountId": .string(identity.account._id), "frozenFrom": .string(source._id)], options: FindOptions(sort: ["createdAt": -1]))
            .collect().filter { $0.sendingId != nil }
    }

    struct ProfileId: Codable, Sendable { let _id: String }

    /// Adds a profile to a fixed segment (from the card or the API).
    public func add(_ profileId: String, to id: String, by identity: Identity) async throws {
        try identity.require(.segments, .edit)
        let (segment, database) = try await segment(id, for: identity)
        guard segment.kind == .fixed else { throw InvalidInput("segment", "rule_invalid", "only a fixed segment takes profiles one by one") }
        guard let profile = try await customers.profiles.profile(profileId, in: database) else { throw InvalidInput("profileId", "unknown_profile", profileId) }
        do {
            try await members.insertOne(SegmentMember(segment: segment, profileId: profile._id))
        } catch let error as MongoError where error.code == .duplicateKey {
            return  // already a member
        }
        try await audit.record(identity.actor, "segment.add", kind: "segment", id: segment._id, name: segment.name,
                               changes: [.init(field: "profile", before: nil, after: CustomerDataService.title(of: profile, in: database))])
    }

    public func remove(_ profileId: String, from id: String, by identity: Identity) async throws {
        try identity.require(.segments, .edit)
        let (segment, _) = try await segment(id, for: identity)
        _ = try await members.deleteOne(["_id": .string(segment._id + ":" + profileId)])
        try await audit.record(identity.actor, "segment.remove", kind: "segment", id: segment._id, name: segment.name, changes: [.init(field: "profile", before: profileId, after: nil)])
    }

    /// The fixed segments a profile belongs to.
    public func memberships(of profile: Profile) async throws -> [String] {
        try await members.find(["profileId": .string(profile._id), "accountId": .string(profile.accountId)]).collect().map(\.segmentId)
    }

    static func json(_ rule: SegmentRule?) throws -> String? {
        guard let rule else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(rule), as: UTF8.self)
    }
}
