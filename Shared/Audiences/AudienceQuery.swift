import BSON
import CustomerData
import Foundation
import Mongo

/// Runs checked rules against the customer-data store. Conditions on more than the profile
/// document are resolved first, each by its own query in the database — activity counts by a
/// `$group` over the profile's events, table aggregates by `$unwind` and `$group` over the rows,
/// fixed segments from their member lists, relations through the related profiles' own query —
/// to the ids that satisfy them; the rest is one profile query (``RuleCompiler``). For one
/// profile, ``facts(for:needing:)`` loads what the in-process ``RuleEvaluator`` needs.
public struct AudienceQuery: Sendable {
    public let store: ProfileStore
    public let members: MongoCollection<SegmentMember>

    public init(database: MongoDatabase) {
        store = ProfileStore(database: database)
        members = database.collection("segment_members", of: SegmentMember.self)
    }

    /// The store filter of the database's profiles that match `rule`.
    public func filter(_ rule: CheckedRule, accountId: String, databaseId: String) async throws -> BSONDocument {
        var filter: BSONDocument = ["accountId": .string(accountId), "databaseId": .string(databaseId)]
        let resolved = try await resolve(rule, accountId: accountId, databaseId: databaseId)
        for (key, value) in RuleCompiler.filter(resolved) { filter.append(key, value) }
        return filter
    }

    /// The store filter of a segment's profiles now: a dynamic segment's rule, checked against
    /// the database and its other segments, or a fixed segment's members.
    ///
    /// - Throws: ``RuleErrors`` when the rule no longer fits the schema.
    public func filter(of segment: Segment, in database: ProfileDatabase, segments: [Segment]) async throws -> BSONDocument {
        try await filter(try Self.rule(of: segment, in: database, segments: segments), accountId: segment.accountId, databaseId: segment.databaseId)
    }

    /// The store filter of the members of the segment `id` of `database`, for a job (export, copy,
    /// SQL sync); the segments come from the settings store.
    ///
    /// - Throws: ``SegmentGone`` when the segment no longer exists, ``RuleErrors`` when its rule
    ///   no longer fits the schema.
    public func filter(ofSegment id: String, in database: ProfileDatabase, segments collection: MongoCollection<Segment>) async throws -> BSONDocument {
        let segments = try await collection.find(["accountId": .string(database.accountId), "databaseId": .string(database._id)]).collect()
        guard let segment = segments.first(where: { $0._id == id }) else { throw SegmentGone(id: id) }
        return try await filter(of: segment, in: database, segments: segments)
    }

    /// Writes the members of `source` now into the fixed segment `frozen`, in batches; running it
    /// again after an interruption adds the missing members and never doubles one (a member's id
    /// is the segment's and the profile's). Returns how many profiles the source had.
    @discardableResult
    public func freeze(_ source: Segment, in database: ProfileDatabase, segments: [Segment], into frozen: Segment) async throws -> Int {
        let filter = try await filter(of: source, in: database, segments: segments)
        var batch: [SegmentMember] = [], count = 0
        func flush() async throws {
            guard !batch.isEmpty else { return }
            do {
                _ = try await members.insertMany(batch, ordered: false)
            } catch let error as MongoError where error.code == .duplicateKey {
                // Members written by an earlier, interrupted freeze: the rest went in.
            }
            batch.removeAll()
        }
        for try await profile in store.profiles.find(filter, options: FindOptions(projection: ["_id": 1], batchSize: 1000), as: ProfileId.self) {
            batch.append(SegmentMember(segment: frozen, profileId: profile._id))
            count += 1
            if batch.count == 1000 { try await flush() }
        }
        try await flush()
        return count
    }

    /// A segment a job names is gone (deleted since the job was made).
    public struct SegmentGone: Error, CustomStringConvertible {
        public let id: String
        public init(id: String) { self.id = id }
        public var description: String { "the segment \(id) no longer exists" }
    }

    /// A segment's membership as a checked rule.
    public static func rule(of segment: Segment, in database: ProfileDatabase, segments: [Segment], now: Date = Date()) throws -> CheckedRule {
        switch segment.kind {
        case .fixed: return .member(segmentId: segment._id)
        case .dynamic:
            // The segment as given wins over a stored copy of itself (a rule being changed).
            var byId = Dictionary(segments.map { ($0._id, $0) }, uniquingKeysWith: { first, _ in first })
            byId[segment._id] = segment
            return try RuleChecker.check(segment.rule ?? .all([]), in: database, segments: byId, of: segment._id, now: now).get()
        }
    }

    /// `rule` with every store condition replaced by the profiles that satisfy it.
    public func resolve(_ rule: CheckedRule, accountId: String, databaseId: String) async throws -> CheckedRule {
        let scope: BSONDocument = ["accountId": .string(accountId), "databaseId": .string(databaseId)]
        switch rule {
        case .all(let rules):
            var resolved: [CheckedRule] = []
            for rule in rules { resolved.append(try await resolve(rule, accountId: accountId, databaseId: databaseId)) }
            return .all(resolved)
        case .any(let rules):
            var resolved: [CheckedRule] = []
            for rule in rules { resolved.append(try await resolve(rule, accountId: accountId, databaseId: databaseId)) }
            return .any(resolved)
        case .not(let inner):
            return .not(try await resolve(inner, accountId: accountId, databaseId: databaseId))
        case .activity(let query):
            var match = [scope]
            match.append(["kind": query.prefix ? ["$regex": .string("^" + NSRegularExpression.escapedPattern(for: query.kind))] : .string(query.kind)])
            if let since = query.since { match.append(["at": ["$gte": .date(since)]]) }
            match.append(RuleCompiler.filter(query.properties, prefix: "properties."))
            return try await grouped(store.activity, [Self.match(match)], by: "$profileId", value: ["$sum": 1],
                                     holds: .compare(path: "v", query.comparison, .double(query.count)), ofNothing: .int32(0))
        case .table(let query):
            let path = "fields." + query.field
            let pipeline: [BSONDocument] = [Self.match([scope]), ["$unwind": .string("$" + path)], Self.match([RuleCompiler.filter(query.rows, prefix: path + ".")])]
            let column: BSONValue = query.column.map { .string("$\(path).\($0)") } ?? .null
            let value: BSONDocument = switch query.aggregate {
            case .count: ["$sum": 1]
            case .sum: ["$sum": column]
            case .avg: ["$avg": column]
            case .min: ["$min": column]
            case .max: ["$max": column]
            }
            return try await grouped(store.profiles, pipeline, by: "$_id", value: value,
                                     holds: .compare(path: "v", query.comparison, query.value), ofNothing: query.ofNoRows)
        case .member(let segmentId):
            var ids = Set<String>()
            for try await member in members.find(["segmentId": .string(segmentId), "accountId": .string(accountId)], options: FindOptions(projection: ["profileId": 1]), as: MemberId.self) {
                ids.insert(member.profileId)
            }
            return .profiles(ids, negated: false)
        case .related(let kind, let direction, let inner):
            var relations = scope
            relations.append("kind", .string(kind))
            var pairs: [(profile: String, other: String)] = []
            for try await relation in store.relations.find(relations, options: FindOptions(projection: ["fromId": 1, "toId": 1]), as: RelationEnds.self) {
                if direction != .incoming { pairs.append((relation.fromId, relation.toId)) }
                if direction != .outgoing { pairs.append((relation.toId, relation.fromId)) }
            }
            guard !pairs.isEmpty else { return .profiles([], negated: false) }
            let others: BSONDocument = ["$and": [
                .document(try await filter(inner, accountId: accountId, databaseId: databaseId)),
                ["_id": ["$in": .array(Set(pairs.map(\.other)).sorted().map { .string($0) })]],
            ]]
            var matching = Set<String>()
            for try await profile in store.profiles.find(others, options: FindOptions(projection: ["_id": 1]), as: ProfileId.self) {
                matching.insert(profile._id)
            }
            return .profiles(Set(pairs.filter { matching.contains($0.other) }.map(\.profile)), negated: false)
        default:
            return rule
        }
    }

    /// The ids whose grouped value holds, computed in the store. When the value of no records at
    /// all (`ofNothing`: a count of 0) also holds, the profiles without any records belong too:
    /// the answer is then "none of the ids whose value does not hold".
    func grouped<T: Codable & Sendable>(_ collection: MongoCollection<T>, _ stages: [BSONDocument], by key: String, value: BSONDocument,
                                       holds: CheckedRule, ofNothing: BSONValue?) async throws -> CheckedRule {
        let nothingHolds = ofNothing.map { RuleEvaluator.matches(holds, record: ["v": $0]) } ?? false
        let pipeline = stages + [["$group": ["_id": .string(key), "v": .document(value)]],
                                 Self.match([RuleCompiler.filter(nothingHolds ? .not(holds) : holds, prefix: "")]),
                                 ["$project": ["_id": 1]]]
        var ids = Set<String>()
        for try await group in collection.aggregate(pipeline, as: ProfileId.self) { ids.insert(group._id) }
        return .profiles(ids, negated: nothingHolds)
    }

    /// A `$match` stage of all the conditions, always inside `$and`: nx-27017 ignores a date
    /// range at the top of an aggregation's `$match` (it honours it inside `$and`, as `find` does).
    static func match(_ conditions: [BSONDocument]) -> BSONDocument {
        let parts = conditions.filter { !$0.isEmpty }
        return ["$match": parts.isEmpty ? [:] : ["$and": .array(parts.map { .document($0) })]]
    }

    /// What the in-process evaluator needs of `profile` for `rule`: its events of the kinds the
    /// rule counts, its fixed segments, and its related profiles of the kinds it names (with
    /// their own facts).
    public func facts(for profile: Profile, needing rule: CheckedRule) async throws -> ProfileFacts {
        var facts = ProfileFacts()
        var activity: [ActivityQuery] = [], related: [(String, RelationRule.Direction, CheckedRule)] = [], needsSegments = false
        func collect(_ rule: CheckedRule) {
            switch rule {
            case .all(let rules), .any(let rules): rules.forEach(collect)
            case .not(let inner): collect(inner)
            case .activity(let query): activity.append(query)
            case .member: needsSegments = true
            case .related(let kind, let direction, let inner): related.append((kind, direction, inner))
            default: break
            }
        }
        collect(rule)
        let scope: BSONDocument = ["accountId": .string(profile.accountId), "databaseId": .string(profile.databaseId), "profileId": .string(profile._id)]
        if !activity.isEmpty {
            var filter = scope
            if activity.allSatisfy({ $0.since != nil }), let since = activity.compactMap(\.since).min() { filter.append("at", ["$gte": .date(since)]) }
            let exact = activity.filter { !$0.prefix }.map(\.kind), groups = activity.filter(\.prefix).map(\.kind)
            var kinds: [BSONValue] = exact.map { .string($0) }
            for group in groups { kinds.append(["$regex": .string("^" + NSRegularExpression.escapedPattern(for: group))]) }
            filter.append("$or", .array(kinds.map { kind in .document(["kind": kind]) }))
            facts.activity = try await store.activity.find(filter).collect().filter { event in activity.contains { $0.matches(event) } }
        }
        if needsSegments {
            facts.segments = Set(try await members.find(["profileId": .string(profile._id), "accountId": .string(profile.accountId)]).collect().map(\.segmentId))
        }
        for (kind, direction, inner) in related {
            var filter: BSONDocument = ["accountId": .string(profile.accountId), "databaseId": .string(profile.databaseId), "kind": .string(kind)]
            let mine: [BSONValue] = [direction != .incoming ? ["fromId": .string(profile._id)] : nil, direction != .outgoing ? ["toId": .string(profile._id)] : nil].compactMap { $0 }
            filter.append("$or", .array(mine))
            for relation in try await store.relations.find(filter).collect() {
                let outgoing = relation.fromId == profile._id
                guard let other = try await store.profiles.findOne(["_id": .string(outgoing ? relation.toId : relation.fromId), "accountId": .string(profile.accountId)]) else { continue }
                facts.relations.append(RelatedProfile(kind: kind, outgoing: outgoing, profile: other, facts: try await self.facts(for: other, needing: inner)))
            }
        }
        return facts
    }

    /// Whether one profile matches now (triggers and scenarios).
    public func matches(_ rule: CheckedRule, _ profile: Profile) async throws -> Bool {
        RuleEvaluator.matches(rule, profile, facts: rule.needsResolution ? try await facts(for: profile, needing: rule) : ProfileFacts())
    }

    struct ProfileId: Codable, Sendable { let _id: String }
    struct MemberId: Codable, Sendable { let profileId: String }
    struct RelationEnds: Codable, Sendable { let fromId: String, toId: String }
}
