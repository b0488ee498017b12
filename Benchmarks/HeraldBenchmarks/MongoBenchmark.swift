import BSON
import Foundation
import HeraldTesting
import Logging
import Mongo

/// insertMany and a full cursor read through the Swift wrapper, against raw libmongoc on the same server.
enum MongoBenchmark {
    static func run(reference: String, uri: String, count: Int, batch: Int) async throws -> [BenchmarkResult] {
        var bestSwift = (insert: 0.0, read: 0.0), bestC = (insert: 0.0, read: 0.0)
        for round in 0..<3 {
            let db = "bench_c_\(round)_\(UUID().uuidString.prefix(6).lowercased())"
            let p = try ChildProcess(executable: reference, arguments: [uri, db, String(count), String(batch)])
            guard p.waitForExit() == 0 else { throw TestServerError(message: "mongo_reference failed: \(p.output)") }
            let rates = parseRates(p.output)
            bestC = (max(bestC.insert, rates["insert_per_s"] ?? 0), max(bestC.read, rates["read_per_s"] ?? 0))

            let s = try await runSwift(uri: uri, database: "bench_swift_\(round)_\(UUID().uuidString.prefix(6).lowercased())", count: count, batch: batch)
            bestSwift = (max(bestSwift.insert, s.insert), max(bestSwift.read, s.read))
        }
        return [
            BenchmarkResult(name: "mongo.insertMany", unit: "docs/s", herald: bestSwift.insert, reference: bestC.insert,
                            referenceName: "C libmongoc", minimumRatio: 0.9),
            BenchmarkResult(name: "mongo.cursor read", unit: "docs/s", herald: bestSwift.read, reference: bestC.read,
                            referenceName: "C libmongoc", minimumRatio: 0.9),
        ]
    }

    static func runSwift(uri: String, database: String, count: Int, batch: Int) async throws -> (insert: Double, read: Double) {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let client = try MongoClient(uri: uri, logger: logger)
        let rows = client.database(database).collection("rows", of: Row.self)
        let insertTime = try await measure {
            for start in stride(from: 0, to: count, by: batch) {
                let docs = (start..<min(count, start + batch)).map(Row.sample)
                try await rows.insertMany(docs)
            }
        }
        var read = 0
        var checksum = 0
        let readTime = try await measure {
            for try await row in rows.find() {
                read += 1
                checksum &+= Int(row.age) + row.email.utf8.count
            }
        }
        precondition(read == count, "read \(read) of \(count)")
        precondition(checksum > 0)
        try await client.shutdown()
        return (Double(count) / insertTime, Double(count) / readTime)
    }
}
