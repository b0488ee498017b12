import BSON
import CustomerData
import DataJobs
import Foundation
import HeraldTesting
import Imports
import Logging
import Mongo

/// CSV import of generated profiles (20 fields) through the whole import path — stored file,
/// reader, field checks, identifier look-ups, bulk writes, activity, progress — against the raw
/// insertMany rate of the same documents into a collection with the same indexes, in the same run.
/// Also reports the import's peak resident memory.
enum ImportBenchmark {
    static let extraFields: [FieldDefinition] = [
        FieldDefinition(key: "city", title: "City", type: .string, indexed: true),
        FieldDefinition(key: "age", title: "Age", type: .integer),
        FieldDefinition(key: "balance", title: "Balance", type: .decimal),
        FieldDefinition(key: "vip", title: "VIP", type: .boolean),
        FieldDefinition(key: "born", title: "Born", type: .date),
        FieldDefinition(key: "seen", title: "Seen", type: .dateTime),
        FieldDefinition(key: "tier", title: "Tier", type: .enumeration, options: ["basic", "silver", "gold"]),
        FieldDefinition(key: "tags", title: "Tags", type: .stringList),
        FieldDefinition(key: "company", title: "Company", type: .string),
        FieldDefinition(key: "position", title: "Position", type: .string),
        FieldDefinition(key: "orders", title: "Orders", type: .integer),
        FieldDefinition(key: "spent", title: "Spent", type: .decimal),
        FieldDefinition(key: "source", title: "Source", type: .string),
        FieldDefinition(key: "newsletter", title: "Newsletter", type: .boolean),
        FieldDefinition(key: "last_order", title: "Last order", type: .date),
    ]

    static func row(_ i: Int) -> [String] {
        ["c\(i)@example.com", "+7912\(String(format: "%07d", i))", "X\(i)", "Name\(i % 977)", "Surname\(i % 1009)", ["Moscow", "Perm", "Oslo", "Köln"][i % 4],
         String(18 + i % 60), String(format: "%.2f", Double(i % 100_000) / 7), i % 3 == 0 ? "yes" : "no", String(format: "%04d-%02d-%02d", 1950 + i % 50, 1 + i % 12, 1 + i % 28),
         "2024-0\(1 + i % 9)-1\(i % 10)T10:00:00Z", ["basic", "silver", "gold"][i % 3], "a\(i % 7); b\(i % 11)", "Company \(i % 5000)", "Manager",
         String(i % 40), String(format: "%.2f", Double(i % 9999) * 1.5), "bench", i % 2 == 0 ? "true" : "false", String(format: "2024-%02d-%02d", 1 + i % 12, 1 + i % 28)]
    }

    static func run(uri: String, count: Int) async throws -> [BenchmarkResult] {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let client = try MongoClient(uri: uri, logger: logger)
        let fields = ProfileDatabase.defaultFields + extraFields
        let header = fields.map(\.key)

        // The file, written as it is generated.
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("herald-bench-\(UUID().uuidString.prefix(6)).csv")
        FileManager.default.createFile(atPath: url.path, contents: nil)
        let out = try FileHandle(forWritingTo: url)
        try out.write(contentsOf: Data((header.joined(separator: ",") + "\n").utf8))
        var block = ""
        for i in 0..<count {
            block += row(i).joined(separator: ",") + "\n"
            if i % 5000 == 4999 { try out.write(contentsOf: Data(block.utf8)); block = "" }
        }
        try out.write(contentsOf: Data(block.utf8))
        try out.close()
        defer { try? FileManager.default.removeItem(at: url) }

        // The import, end to end, with its peak memory.
        let settingsDB = client.database("bench_settings_\(UUID().uuidString.prefix(6).lowercased())")
        let customersDB = client.database("bench_import_\(UUID().uuidString.prefix(6).lowercased())")
        let jobs = JobStore(database: settingsDB)
        try await jobs.prepare()
        let databases = settingsDB.collection("profile_databases", of: ProfileDatabase.self)
        let database = ProfileDatabase(accountId: "bench", name: "Bench", fields: fields)
        try await databases.insertOne(database)
        let profiles = ProfileStore(database: customersDB)
        try await profiles.prepare()
        try await profiles.prepare(database)
        var job = ImportJob(accountId: "bench", databaseId: database._id, createdBy: "bench", fileName: "bench.csv", format: .csv)
        _ = try await jobs.storeFile(for: &job, from: FileBlocks(url: url), limit: .max)
        job.mapping = header.enumerated().map { ImportJob.ColumnMapping(column: $0.offset, header: $0.element, field: $0.element) }
        job.state = .queued
        try await jobs.jobs.insertOne(job)
        let runner = ImportRunner(jobs: jobs, databases: databases, writer: ProfileWriter(store: profiles), logger: logger)
        ProcessMemory.resetPeak()
        let importTime = try await measure { try await runner.run(jobId: job._id) }
        let peak = ProcessMemory.peakResidentBytes()
        guard let done = try await jobs.jobs.findOne(["_id": .string(job._id)]), done.state == .succeeded, done.counters.created == Int64(count) else {
            throw TestServerError(message: "the benchmark import did not create every profile")
        }

        // The same documents, inserted raw into a collection with the same indexes.
        let rawStore = ProfileStore(database: client.database("bench_raw_\(UUID().uuidString.prefix(6).lowercased())"))
        try await rawStore.prepare()
        try await rawStore.prepare(database)
        var rawTime = 0.0, companionTime = 0.0
        ProcessMemory.resetPeak()
        for start in stride(from: 0, to: count, by: 1000) {
            let documents = (start..<min(count, start + 1000)).map { i -> CustomerData.Profile in
                var profile = CustomerData.Profile(accountId: "bench", databaseId: database._id)
                let values = zip(fields, row(i)).map { field, cell in (field.key, (try? FieldValueParser.parse(.text(cell), as: field).get()) ?? .null) }
                profile.merge(values)
                return profile
            }
            rawTime += try await measure { _ = try await rawStore.profiles.insertMany(documents, ordered: false) }
            // What else the import writes per new customer — its identifier claims (race-safe
            // uniqueness on a store without transactions) and its timeline entry — raw, for the floor.
            let identities = documents.flatMap { ProfileIdentity.all(of: $0, in: database) }
            let activity = documents.map { ActivityEvent(accountId: "bench", databaseId: database._id, profileId: $0._id, kind: "profile.created", source: "import") }
            companionTime += try await measure {
                _ = try await rawStore.identities.insertMany(identities, ordered: false)
                _ = try await rawStore.activity.insertMany(activity, ordered: false)
            }
        }
        let rawPeakMB = Double(ProcessMemory.peakResidentBytes()) / 1_048_576
        let importRate = Double(count) / importTime, rawRate = Double(count) / rawTime
        let peakMB = Double(peak) / 1_048_576
        return [
            BenchmarkResult(name: "import.csv \(count / 1000)k×20", unit: "rows/s", herald: importRate, reference: rawRate,
                            referenceName: "raw insertMany", minimumRatio: 0.8),
            BenchmarkResult(name: "import.csv, all it writes", unit: "rows/s", herald: importRate, reference: Double(count) / (rawTime + companionTime),
                            referenceName: "raw insertMany of all it writes", minimumRatio: nil),
            BenchmarkResult(name: "import.csv peak memory", unit: "MB", herald: peakMB, reference: rawPeakMB,
                            referenceName: "raw insertMany peak", minimumRatio: nil, absoluteMaximum: 300),
        ]
    }
}
