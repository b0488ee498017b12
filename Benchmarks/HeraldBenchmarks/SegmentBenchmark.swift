import Audiences
import BSON
import CustomerData
import Foundation
import HeraldTesting
import Logging
import Mongo

/// Segments: the in-process evaluator on a 10-condition rule tree (target 1,000,000
/// evaluations/s on one core), printed beside one plain pass over each profile's fields; and the
/// count of a 5-condition segment over 200,000 profiles, printed beside a full collection scan of
/// the same store in the same run (the store's floor), with the store's plan for the count.
enum SegmentBenchmark {
    static let database = ProfileDatabase(accountId: "bench", name: "Bench", fields: ProfileDatabase.defaultFields + ImportBenchmark.extraFields.map { field in
        var field = field
        if ["age", "tier", "spent", "newsletter"].contains(field.key) { field.indexed = true }
        return field
    })

    static func profile(_ i: Int) -> CustomerData.Profile {
        var profile = CustomerData.Profile(accountId: "bench", databaseId: database._id)
        profile._id = String(format: "%024x", i)
        let row = ImportBenchmark.row(i)
        var values: [(String, BSONValue)] = []
        for (field, text) in zip(database.fields, row) {
            if case .success(let value) = FieldValueParser.parse(.text(text), as: field), value != .null { values.append((field.key, value)) }
        }
        profile.merge(values)
        if i % 3 != 0 { profile.subscribe(Subscription(channel: .email, address: "c\(i)@example.com", status: i % 5 == 0 ? .unsubscribed : .active)) }
        return profile
    }

    static func check(_ json: String) throws -> CheckedRule {
        try RuleChecker.check(JSONDecoder().decode(SegmentRule.self, from: Data(json.utf8)), in: database).get()
    }

    static func run(uri: String, profiles count: Int, evaluations: Int) async throws -> [BenchmarkResult] {
        let profiles = (0..<10_000).map(profile)
        // Ten conditions: text sets, ranges, a boolean, an enum, a list, a subscription, dates.
        let tree = try check(#"""
        {"all": [{"field": "city", "op": "in", "value": ["Moscow", "Perm", "Oslo"]},
                 {"field": "age", "op": "gte", "value": 25},
                 {"any": [{"field": "vip", "op": "eq", "value": true}, {"field": "spent", "op": "gt", "value": 3000}]},
                 {"not": {"field": "tier", "op": "eq", "value": "basic"}},
                 {"field": "tags", "op": "ne", "value": "a3"},
                 {"subscription": {"channel": "email", "status": "active"}},
                 {"field": "orders", "op": "lte", "value": 35},
                 {"field": "last_order", "op": "gte", "value": "2024-02-01"},
                 {"field": "company", "op": "not_empty"}]}
        """#)
        var matched = 0
        let evaluate = measure {
            for n in 0..<evaluations where RuleEvaluator.matches(tree, profiles[n % profiles.count]) { matched += 1 }
        }
        var touched = 0
        let pass = measure {
            for n in 0..<evaluations { for (_, value) in profiles[n % profiles.count].fields where value != .null { touched += 1 } }
        }
        guard matched > 0, matched < evaluations, touched > 0 else { throw TestServerError(message: "the benchmark rule matched \(matched) of \(evaluations)") }
        var results = [BenchmarkResult(name: "segments.evaluate 10 cond", unit: "evals/s", herald: Double(evaluations) / evaluate, reference: Double(evaluations) / pass,
                                       referenceName: "one pass over fields", minimumRatio: nil, absoluteTarget: 1_000_000)]

        // The count over the store.
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let client = try MongoClient(uri: uri, logger: logger)
        let audience = AudienceQuery(database: client.database("bench_segments_\(UUID().uuidString.prefix(6).lowercased())"))
        try await audience.store.prepare()
        try await audience.store.prepare(database)
        var batch: [CustomerData.Profile] = []
        for i in 0..<count {
            batch.append(profile(i))
            if batch.count == 5000 { _ = try await audience.store.profiles.insertMany(batch, ordered: false); batch.removeAll() }
        }
        if !batch.isEmpty { _ = try await audience.store.profiles.insertMany(batch, ordered: false) }
        let five = try check(#"""
        {"all": [{"field": "age", "op": "between", "value": [30, 45]}, {"field": "tier", "op": "eq", "value": "gold"},
                 {"field": "spent", "op": "gt", "value": 1000}, {"field": "newsletter", "op": "eq", "value": true},
                 {"subscription": {"channel": "email", "status": "active"}}]}
        """#)
        let filter = try await audience.filter(five, accountId: "bench", databaseId: database._id)
        var found = 0, all = 0
        _ = try await audience.store.profiles.countDocuments(filter)  // warm-up
        let countTime = try await measure { found = try await audience.store.profiles.countDocuments(filter) }
        // A full scan: a condition no index serves, true of every document.
        let scanTime = try await measure { all = try await audience.store.profiles.countDocuments(["fields.no_such_field": .null]) }
        guard found > 0, all == count else { throw TestServerError(message: "the count found \(found), the scan \(all) of \(count)") }
        let plan = try await audience.store.profiles.database.runCommand(["explain": ["find": .string(audience.store.profiles.name), "filter": .document(filter)], "verbosity": "queryPlanner"])
        print("segments.count plan: \(summary(plan))")
        // Times, not rates: a ratio under 1 is a count faster than the scan.
        results.append(BenchmarkResult(name: "segments.count 5 cond", unit: "ms", herald: countTime * 1000, reference: scanTime * 1000,
                                       referenceName: "full scan of \(count.formatted())", minimumRatio: nil, absoluteTarget: nil))
        return results
    }

    /// The stages of a query plan, in a line.
    static func summary(_ plan: BSONDocument) -> String {
        var stages: [String] = []
        func walk(_ value: BSONValue) {
            switch value {
            case .document(let document):
                for (key, inner) in document {
                    if key == "stage" || key == "detail", case .string(let text) = inner { stages.append(text) }
                    if key == "indexName", case .string(let text) = inner { stages.append("index \(text)") }
                    walk(inner)
                }
            case .array(let items): items.forEach(walk)
            default: break
            }
        }
        walk(.document(plan))
        return stages.isEmpty ? "(the store gave no plan)" : stages.joined(separator: " → ")
    }
}
