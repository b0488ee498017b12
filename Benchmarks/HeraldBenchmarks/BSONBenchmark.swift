import BSON
import Foundation

/// BSON encode + decode of a 30-field profile on one core, beside Foundation's JSON on the same value.
enum BSONBenchmark {
    static func run(iterations: Int) throws -> BenchmarkResult {
        let profile = Profile.sample(1)
        let encoder = BSONEncoder(), decoder = BSONDecoder()
        let jsonEncoder = JSONEncoder(), jsonDecoder = JSONDecoder()
        // Same result both ways, or the comparison means nothing.
        let viaBSON = try decoder.decode(Profile.self, from: encoder.encode(profile))
        let viaJSON = try jsonDecoder.decode(Profile.self, from: jsonEncoder.encode(profile))
        precondition(viaBSON == profile && viaJSON == profile)

        var best = 0.0, bestJSON = 0.0
        for _ in 0..<3 {
            var sink = 0
            let t = try measure {
                for _ in 0..<iterations {
                    let d = try encoder.encode(profile)
                    sink &+= try decoder.decode(Profile.self, from: d).age
                }
            }
            // HERALD_BENCH_JSON_ITERATIONS=0 leaves JSON out (for profiling the BSON codec alone).
            let jsonIterations = Int(ProcessInfo.processInfo.environment["HERALD_BENCH_JSON_ITERATIONS"] ?? "") ?? iterations / 5
            let tj = try measure {
                for _ in 0..<jsonIterations {
                    let d = try jsonEncoder.encode(profile)
                    sink &+= try jsonDecoder.decode(Profile.self, from: d).age
                }
            }
            precondition(sink > 0)
            best = max(best, Double(iterations) / t)
            bestJSON = max(bestJSON, jsonIterations == 0 ? 1 : Double(jsonIterations) / tj)
        }
        // The two halves apart, for whoever tunes the codec.
        let document = try encoder.encode(profile)
        var sink = 0
        let te = try measure { for _ in 0..<iterations { sink &+= try encoder.encode(profile).byteCount } }
        let td = try measure { for _ in 0..<iterations { sink &+= try decoder.decode(Profile.self, from: document).age } }
        precondition(sink > 0)
        let tf = try measure {
            for _ in 0..<iterations {
                try CodableFloor.encode(profile)
                sink &+= try CodableFloor.decode(Profile.self).age &+ 1
            }
        }
        print("  Codable itself (an encoder and decoder that touch no bytes): \(Int(Double(iterations) / tf).formatted()) docs/s")
        print("  bson.encode alone \(Int(Double(iterations) / te).formatted()) docs/s, decode alone \(Int(Double(iterations) / td).formatted()) docs/s (\(document.byteCount) bytes)")
        return BenchmarkResult(name: "bson.encode+decode", unit: "docs/s", herald: best, reference: bestJSON,
                               referenceName: "Foundation JSON", minimumRatio: nil, absoluteTarget: 500_000)
    }
}
