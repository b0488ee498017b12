import Audiences
import BSON
import CustomerData
import Foundation
import HeraldTesting
import Mongo
import Testing

/// The store's query and the in-process evaluator give the same members for random rule trees
/// over random profiles (seeded, so a failure can be replayed).
@Suite struct RuleAgreementTests {
    struct Random: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let cities = ["Oslo", "Perm", "Köln", "oslo", "Bergen", ""]
    static let tiers = ["basic", "silver", "gold"]
    static let tags = ["ski", "books", "travel", "music"]
    static let database = ProfileDatabase(accountId: "acc", name: "Agreement", fields: [
        FieldDefinition(key: "email", title: "E-mail", type: .email, unique: true),
        FieldDefinition(key: "city", title: "City", type: .string),
        FieldDefinition(key: "age", title: "Age", type: .integer),
        FieldDefinition(key: "spent", title: "Spent", type: .decimal),
        FieldDefinition(key: "vip", title: "VIP", type: .boolean),
        FieldDefinition(key: "born", title: "Born", type: .date),
        FieldDefinition(key: "seen", title: "Seen", type: .dateTime),
        FieldDefinition(key: "tier", title: "Tier", type: .enumeration, options: tiers),
        FieldDefinition(key: "tags", title: "Tags", type: .stringList),
    ])
    static let now = Date(timeIntervalSince1970: 1_732_838_400)  // 2024-11-29

    static func profile(_ i: Int, _ r: inout Random) -> Profile {
        var profile = Profile(accountId: "acc", databaseId: database._id)
        profile._id = String(format: "%024x", i)
        var fields: [(String, BSONValue)] = [("email", .string("p\(i)@x.io"))]
        if Bool.random(using: &r) || Bool.random(using: &r) { fields.append(("city", .string(cities.randomElement(using: &r)!))) }
        if Int.random(in: 0..<4, using: &r) > 0 { fields.append(("age", .int64(Int64.random(in: 16...80, using: &r)))) }
        if Int.random(in: 0..<4, using: &r) > 0 { fields.append(("spent", .double(Double(Int.random(in: 0...100_000, using: &r)) / 100))) }
        if Bool.random(using: &r) { fields.append(("vip", .bool(Bool.random(using: &r)))) }
        if Int.random(in: 0..<4, using: &r) > 0 {
            fields.append(("born", .string(String(format: "%04d-%02d-%02d", Int.random(in: 1950...2005, using: &r), Int.random(in: 1...12, using: &r), Int.random(in: 1...28, using: &r)))))
        }
        if Bool.random(using: &r) { fields.append(("seen", .date(now.addingTimeInterval(-Double(Int.random(in: 0...400, using: &r)) * 86400)))) }
        if Int.random(in: 0..<4, using: &r) > 0 { fields.append(("tier", .string(tiers.randomElement(using: &r)!))) }
        let count = Int.random(in: 0...3, using: &r)
        if count > 0 || Bool.random(using: &r) { fields.append(("tags", .array(tags.shuffled(using: &r).prefix(count).map { .string($0) }))) }
        profile.merge(fields)
        if Bool.random(using: &r) {
            profile.subscribe(Subscription(channel: .email, address: "p\(i)@x.io", status: [.active, .unsubscribed, .bounced].randomElement(using: &r)!,
                                           resource: ["", "news"].randomElement(using: &r)!))
        }
        if Int.random(in: 0..<3, using: &r) == 0 { profile.subscribe(Subscription(channel: .sms, address: "+4790000\(i)")) }
        return profile
    }

    static func condition(_ r: inout Random) -> SegmentRule {
        switch Int.random(in: 0..<14, using: &r) {
        case 0: return .field(key: "city", op: [.eq, .ne].randomElement(using: &r)!, value: .text(cities.filter { !$0.isEmpty }.randomElement(using: &r)!))
        case 1: return .field(key: "city", op: [.contains, .startsWith].randomElement(using: &r)!, value: .text(["os", "Ber", "ö", "rm"].randomElement(using: &r)!))
        case 2: return .field(key: "city", op: [.in, .notIn].randomElement(using: &r)!, value: .list(cities.shuffled(using: &r).prefix(2).filter { !$0.isEmpty }.map { .text($0) } + [.text("Oslo")]))
        case 3: return .field(key: "age", op: [.gt, .gte, .lt, .lte, .eq, .ne].randomElement(using: &r)!, value: .number(Double(Int.random(in: 16...80, using: &r))))
        case 4: return .field(key: "spent", op: .between, value: .list([.number(Double(Int.random(in: 0...300, using: &r))), .number(Double(Int.random(in: 300...1000, using: &r)))]))
        case 5: return .field(key: "vip", op: [.eq, .ne].randomElement(using: &r)!, value: .bool(Bool.random(using: &r)))
        case 6: return .field(key: "born", op: [.gt, .lt, .gte, .lte].randomElement(using: &r)!, value: .text(String(format: "%04d-%02d-01", Int.random(in: 1950...2005, using: &r), Int.random(in: 1...12, using: &r))))
        case 7: return .field(key: "born", op: .inNextDays, value: .number(Double(Int.random(in: 0...60, using: &r))))
        case 8: return .field(key: "seen", op: .withinLastDays, value: .number(Double(Int.random(in: 0...400, using: &r))))
        case 9: return Bool.random(using: &r)
            ? .field(key: "tier", op: [.eq, .ne].randomElement(using: &r)!, value: .text(tiers.randomElement(using: &r)!))
            : .field(key: "tier", op: [.in, .notIn].randomElement(using: &r)!, value: .list(tiers.shuffled(using: &r).prefix(2).map { .text($0) }))
        case 10: return .field(key: "tags", op: [.contains, .ne].randomElement(using: &r)!, value: .text(tags.randomElement(using: &r)!))
        case 11: return .field(key: ["city", "age", "tags", "vip", "born"].randomElement(using: &r)!, op: [.empty, .notEmpty].randomElement(using: &r)!, value: .null)
        case 12: return .subscription(channel: [.email, .sms].randomElement(using: &r)!, status: [nil, .active, .unsubscribed].randomElement(using: &r)!,
                                      resource: [nil, "news"].randomElement(using: &r)!)
        default: return .field(key: "city", op: .regex, value: .text(["^O", "n$", "e.g", "^(Perm|Oslo)$"].randomElement(using: &r)!))
        }
    }

    static func tree(_ depth: Int, _ r: inout Random) -> SegmentRule {
        guard depth > 0, Int.random(in: 0..<3, using: &r) > 0 else { return condition(&r) }
        let children = (0..<Int.random(in: 1...4, using: &r)).map { _ in tree(depth - 1, &r) }
        switch Int.random(in: 0..<5, using: &r) {
        case 0, 1: return .all(children)
        case 2, 3: return .any(children)
        default: return .not(children[0])
        }
    }

    @Test func theQueryAndTheEvaluatorAgreeOn200RandomRulesOver10000Profiles() async throws {
        var random = Random(state: 20_241_129)
        let profiles = (0..<10_000).map { Self.profile($0, &random) }
        let client = try MongoClient(uri: TestEnvironment.customersMongoURI, applicationName: "herald-tests", logger: TestEnvironment.logger("mongo"))
        let store = ProfileStore(database: client.database(TestEnvironment.uniqueName("rules")))
        for start in stride(from: 0, to: profiles.count, by: 2000) {
            _ = try await store.profiles.insertMany(Array(profiles[start..<start + 2000]), ordered: false)
        }
        var nonTrivial = 0
        for index in 0..<200 {
            let rule = Self.tree(3, &random)
            let checked = try RuleChecker.check(rule, in: Self.database, now: Self.now).get()
            let expected = Set(profiles.filter { RuleEvaluator.matches(checked, $0) }.map(\._id))
            var filter: BSONDocument = ["accountId": "acc"]
            for (key, value) in RuleCompiler.filter(checked) { filter.append(key, value) }
            let found = Set(try await store.profiles.find(filter, options: FindOptions(projection: ["_id": 1]), as: IdOnly.self).collect().map(\._id))
            if expected.count > 0 && expected.count < profiles.count { nonTrivial += 1 }
            if found != expected {
                let json = String(decoding: try JSONEncoder().encode(rule), as: UTF8.self)
                Issue.record("rule \(index) \(json): the store found \(found.count), the evaluator \(expected.count); e.g. \(found.symmetricDifference(expected).prefix(3))")
                break
            }
        }
        // The rules were not all trivially empty or full.
        #expect(nonTrivial > 120)
    }

    struct IdOnly: Codable, Sendable { let _id: String }
}
