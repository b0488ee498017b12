import Audiences
import BSON
import CustomerData
import Foundation
import HeraldTesting
import Mongo
import Testing

/// Behaviour, transaction, relation and segment-membership conditions: the store's answer
/// (``AudienceQuery``: a `$group` per condition, then one profile query) and the in-process
/// evaluator, given facts built here independently of the store, agree on random rule trees
/// over random profiles with random activity, orders, relations and memberships.
@Suite struct StoreConditionAgreementTests {
    typealias Random = RuleAgreementTests.Random
    static let now = RuleAgreementTests.now
    static let kinds = ["message.opened", "message.clicked", "site.visit", "goal.reached"]
    static let database: ProfileDatabase = {
        var database = RuleAgreementTests.database
        database.fields.append(FieldDefinition(key: "orders", title: "Orders", type: .table, columns: [
            FieldDefinition(key: "amount", title: "Amount", type: .decimal),
            FieldDefinition(key: "date", title: "Date", type: .date),
            FieldDefinition(key: "paid", title: "Paid at", type: .dateTime),
            FieldDefinition(key: "status", title: "Status", type: .enumeration, options: ["paid", "refunded"]),
        ]))
        return database
    }()

    static func day(_ offset: Int) -> String {
        let date = now.addingTimeInterval(-Double(offset) * 86400)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }

    static func orders(_ r: inout Random) -> BSONValue? {
        let n = Int.random(in: 0...4, using: &r)
        if n == 0 { return Bool.random(using: &r) ? nil : .array([]) }
        return .array((0..<n).map { _ in
            var row = BSONDocument()
            if Int.random(in: 0..<5, using: &r) > 0 { row.append("amount", .double(Double(Int.random(in: 0...800_000, using: &r)) / 100)) }
            let age = Int.random(in: 0...200, using: &r)
            if Int.random(in: 0..<6, using: &r) > 0 { row.append("date", .string(day(age))) }
            if Bool.random(using: &r) { row.append("paid", .date(now.addingTimeInterval(-Double(age) * 86400 - 3600))) }
            if Int.random(in: 0..<4, using: &r) > 0 { row.append("status", .string(Bool.random(using: &r) ? "paid" : "refunded")) }
            return .document(row)
        })
    }

    static func events(for profile: Profile, _ r: inout Random) -> [ActivityEvent] {
        (0..<Int.random(in: 0...6, using: &r)).map { _ in
            let kind = kinds.randomElement(using: &r)!
            var properties = BSONDocument()
            switch kind {
            case "site.visit": properties.append("url", .string(["/catalog/ski", "/catalog/books", "/home", "/Catalog/x"].randomElement(using: &r)!))
            case "goal.reached": properties.append("goal", .string(["signup", "purchase"].randomElement(using: &r)!))
            default: properties.append("campaign", .string(["c1", "c2"].randomElement(using: &r)!))
            }
            if Bool.random(using: &r) { properties.append("browser", .string(["Chrome", "Safari"].randomElement(using: &r)!)) }
            return ActivityEvent(accountId: "acc", databaseId: database._id, profileId: profile._id,
                                 at: Date(timeIntervalSince1970: (now.timeIntervalSince1970 - Double(Int.random(in: 0...150 * 86400, using: &r))).rounded()),
                                 kind: kind, source: "test", properties: properties)
        }
    }

    static func comparison(_ r: inout Random) -> CheckedRule.Comparison { CheckedRule.Comparison.allCases.randomElement(using: &r)! }

    static func activity(_ r: inout Random) -> SegmentRule {
        let kind = (kinds + ["message.*"]).randomElement(using: &r)!
        var conditions: [PropertyCondition] = []
        switch Int.random(in: 0..<6, using: &r) {
        case 0: conditions = [PropertyCondition(property: "campaign", op: .eq, value: .text("c1"))]
        case 1: conditions = [PropertyCondition(property: "url", op: .contains, value: .text("/catalog"))]
        case 2: conditions = [PropertyCondition(property: "url", op: .regex, value: .text("^/home"))]
        case 3: conditions = [PropertyCondition(property: "browser", op: [.eq, .ne].randomElement(using: &r)!, value: .text("Chrome"))]
        default: break
        }
        return .activity(ActivityRule(kind: kind, where: conditions, withinLastDays: Bool.random(using: &r) ? Int.random(in: 0...150, using: &r) : nil,
                                      count: Bool.random(using: &r) ? CountCondition(comparison(&r), Double(Int.random(in: 0...3, using: &r))) : nil))
    }

    static func table(_ r: inout Random) -> SegmentRule {
        let aggregate = TableRule.Aggregate.allCases.randomElement(using: &r)!
        let rows: SegmentRule? = switch Int.random(in: 0..<4, using: &r) {
        case 0: .field(key: "status", op: .eq, value: .text("paid"))
        case 1: .not(.field(key: "amount", op: .gt, value: .number(2000)))
        default: nil
        }
        let window = Bool.random(using: &r)
        var column: String?, value: FieldInput
        switch aggregate {
        case .count: value = .number(Double(Int.random(in: 0...3, using: &r)))
        case .sum, .avg: column = "amount"; value = .number(Double(Int.random(in: 0...8000, using: &r)))
        case .min, .max:
            if Bool.random(using: &r) { column = "amount"; value = .number(Double(Int.random(in: 0...8000, using: &r))) }
            else { column = "date"; value = .text(day(Int.random(in: 0...200, using: &r))) }
        }
        return .table(TableRule(field: "orders", where: rows, dateColumn: window ? ["date", "paid"].randomElement(using: &r)! : nil,
                                withinLastDays: window ? Int.random(in: 0...200, using: &r) : nil, aggregate: aggregate, column: column, op: comparison(&r), value: value))
    }

    static func condition(_ r: inout Random, fixed: String, dynamic: String) -> SegmentRule {
        switch Int.random(in: 0..<10, using: &r) {
        case 0, 1, 2: return activity(&r)
        case 3, 4, 5: return table(&r)
        case 6: return .segment(Bool.random(using: &r) ? fixed : dynamic)
        case 7: return .related(RelationRule(kind: ["referrer", "family"].randomElement(using: &r)!, direction: [.outgoing, .incoming, .any].randomElement(using: &r)!,
                                             rule: Bool.random(using: &r) ? RuleAgreementTests.condition(&r) : activity(&r)))
        default: return RuleAgreementTests.condition(&r)
        }
    }

    static func tree(_ depth: Int, _ r: inout Random, fixed: String, dynamic: String) -> SegmentRule {
        guard depth > 0, Int.random(in: 0..<3, using: &r) > 0 else { return condition(&r, fixed: fixed, dynamic: dynamic) }
        let children = (0..<Int.random(in: 1...3, using: &r)).map { _ in tree(depth - 1, &r, fixed: fixed, dynamic: dynamic) }
        switch Int.random(in: 0..<5, using: &r) {
        case 0, 1: return .all(children)
        case 2, 3: return .any(children)
        default: return .not(children[0])
        }
    }

    static func leaves(_ rule: SegmentRule) -> [SegmentRule] {
        switch rule {
        case .all(let rules), .any(let rules): rules.flatMap(leaves)
        case .not(let inner): leaves(inner)
        default: [rule]
        }
    }

    @Test func theStoreAndTheEvaluatorAgreeOnBehaviourTransactionsRelationsAndSegments() async throws {
        var random = Random(state: 20_261_129)
        var profiles = (0..<2_000).map { RuleAgreementTests.profile($0, &random) }
        for index in profiles.indices {
            if let orders = Self.orders(&random) { profiles[index].merge([("orders", orders)]) }
        }
        let events = Dictionary(grouping: profiles.flatMap { Self.events(for: $0, &random) }, by: \.profileId)
        var relations: [ProfileRelation] = []
        for profile in profiles where Int.random(in: 0..<3, using: &random) == 0 {
            let other = profiles.randomElement(using: &random)!
            guard other._id != profile._id else { continue }
            relations.append(ProfileRelation(accountId: "acc", databaseId: Self.database._id, fromId: profile._id, toId: other._id, kind: ["referrer", "family"].randomElement(using: &random)!))
        }
        let fixed = Segment(accountId: "acc", databaseId: Self.database._id, name: "Fixed", kind: .fixed, rule: nil)
        let dynamic = Segment(accountId: "acc", databaseId: Self.database._id, name: "Dynamic", kind: .dynamic,
                              rule: .all([.field(key: "city", op: .eq, value: .text("Oslo")), .activity(ActivityRule(kind: "site.visit"))]))
        let members = profiles.filter { _ in Int.random(in: 0..<5, using: &random) == 0 }.map { SegmentMember(segment: fixed, profileId: $0._id) }

        let client = try MongoClient(uri: TestEnvironment.customersMongoURI, applicationName: "herald-tests", logger: TestEnvironment.logger("mongo"))
        let audience = AudienceQuery(database: client.database(TestEnvironment.uniqueName("storerules")))
        _ = try await audience.store.profiles.insertMany(profiles, ordered: false)
        _ = try await audience.store.activity.insertMany(events.values.flatMap { $0 }, ordered: false)
        _ = try await audience.store.relations.insertMany(relations, ordered: false)
        _ = try await audience.members.insertMany(members, ordered: false)

        // Facts built from the data in memory, not read back from the store.
        let byId = Dictionary(uniqueKeysWithValues: profiles.map { ($0._id, $0) })
        let memberIds = Set(members.map(\.profileId))
        func factsOf(_ id: String, depth: Int) -> ProfileFacts {
            var facts = ProfileFacts(activity: events[id] ?? [], segments: memberIds.contains(id) ? [fixed._id] : [])
            guard depth > 0 else { return facts }
            for relation in relations where relation.fromId == id || relation.toId == id {
                let outgoing = relation.fromId == id
                let other = byId[outgoing ? relation.toId : relation.fromId]!
                facts.relations.append(RelatedProfile(kind: relation.kind, outgoing: outgoing, profile: other, facts: factsOf(other._id, depth: depth - 1)))
            }
            return facts
        }
        let allFacts = Dictionary(uniqueKeysWithValues: profiles.map { ($0._id, factsOf($0._id, depth: 1)) })
        let segments = [fixed._id: fixed, dynamic._id: dynamic]

        var nonTrivial = 0
        for index in 0..<200 {
            let rule = Self.tree(2, &random, fixed: fixed._id, dynamic: dynamic._id)
            let checked = try RuleChecker.check(rule, in: Self.database, segments: segments, now: Self.now).get()
            let expected = Set(profiles.filter { RuleEvaluator.matches(checked, $0, facts: allFacts[$0._id]!) }.map(\._id))
            let filter = try await audience.filter(checked, accountId: "acc", databaseId: Self.database._id)
            let found = Set(try await audience.store.profiles.find(filter, options: FindOptions(projection: ["_id": 1]), as: RuleAgreementTests.IdOnly.self).collect().map(\._id))
            if expected.count > 0 && expected.count < profiles.count { nonTrivial += 1 }
            if found != expected {
                // Name the first condition of the tree that disagrees on its own, to replay it.
                var culprit = rule
                for leaf in Self.leaves(rule) {
                    let one = try RuleChecker.check(leaf, in: Self.database, segments: segments, now: Self.now).get()
                    let store = Set(try await audience.store.profiles.find(try await audience.filter(one, accountId: "acc", databaseId: Self.database._id),
                                                                           options: FindOptions(projection: ["_id": 1]), as: RuleAgreementTests.IdOnly.self).collect().map(\._id))
                    if store != Set(profiles.filter { RuleEvaluator.matches(one, $0, facts: allFacts[$0._id]!) }.map(\._id)) { culprit = leaf; break }
                }
                let json = String(decoding: try JSONEncoder().encode(culprit), as: UTF8.self)
                Issue.record("rule \(index), at \(json): the store found \(found.count), the evaluator \(expected.count); e.g. \(Array(found.symmetricDifference(expected).prefix(3)))")
                break
            }
            // One profile at a time, the way triggers ask, with facts the store loads.
            if index % 20 == 0, let one = profiles.randomElement(using: &random) {
                #expect(try await audience.matches(checked, one) == expected.contains(one._id), "rule \(index), profile \(one._id)")
            }
        }
        #expect(nonTrivial > 100)
    }
}
