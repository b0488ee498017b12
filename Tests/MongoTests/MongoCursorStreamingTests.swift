import BSON
import Foundation
import HeraldTesting
import Mongo
import Testing

@Suite("MongoDB cursor streaming")
struct MongoCursorStreamingTests {
    struct Row: Codable, Sendable {
        var _id: Int
        var n: Int
        var payload: String
    }

    @Test func streams50kDocumentsWithFlatMemory() async throws {
        try await withDatabase { db in
            let rows = db.collection("rows", of: Row.self)
            let payload = String(repeating: "x", count: 1000)
            let total = 50_000
            for start in stride(from: 0, to: total, by: 5_000) {
                let batch = (start..<(start + 5_000)).map { Row(_id: $0, n: $0 % 7, payload: payload) }
                try await rows.insertMany(batch, ordered: false)
            }
            // The whole result is about 52 MB of BSON; streaming keeps one batch of it in memory.
            let before = ProcessMemory.residentBytes()
            var peak = before
            var count = 0
            var sum = 0
            var seen = Set<Int>()
            for try await row in rows.find([:], options: FindOptions(batchSize: 500)) {
                count += 1
                sum += row.n
                seen.insert(row._id)
                if count % 1_000 == 0 { peak = max(peak, ProcessMemory.residentBytes()) }
            }
            #expect(count == total)
            #expect(seen.count == total)
            #expect(sum == (0..<total).reduce(0) { $0 + $1 % 7 })
            let growth = peak - before
            print("cursor streaming: resident memory grew by \(growth) bytes over 50,000 documents")
            // Streaming holds one batch (under 1 MB here); reading everything would hold about 60 MB.
            // The bound leaves room for the tests that run beside this one in the same process.
            #expect(growth < 30_000_000, "resident memory grew by \(growth) bytes while streaming")
        }
    }
}
