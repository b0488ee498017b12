import BSON
import Foundation

/// BSON encode + decode of a 30-field profile on one core, beside Foundation's JSON on the same value:
/// once through `Codable` (any type) and once through `BSONRepresentable` (Herald's hot types).
enum BSONBenchmark {
    static func run(iterations: Int) throws -> [BenchmarkResult] {
        let profile = Profile.sample(1)
        let fast = FastProfile(profile)
        let encoder = BSONEncoder(), decoder = BSONDecoder()
        let jsonEncoder = JSONEncoder(), jsonDecoder = JSONDecoder()
        // Same bytes and values every way, or the comparison means nothing.
        let viaCodable = try encoder.encode(profile)
        let viaFast = try encoder.encode(fast)
        precondition(viaCodable == viaFast, "BSONRepresentable and Codable wrote different bytes")
        let backFromFast = try decoder.decode(Profile.self, from: viaFast)
        let backFromCodable = try decoder.decode(FastProfile.self, from: viaCodable)
        let backFromJSON = try jsonDecoder.decode(Profile.self, from: jsonEncoder.encode(profile))
        precondition(backFromFast == profile && backFromCodable == fast && backFromJSON == profile)

        // HERALD_BENCH_JSON_ITERATIONS=0 leaves JSON out (for profiling the BSON codec alone).
        let jsonIterations = Int(ProcessInfo.processInfo.environment["HERALD_BENCH_JSON_ITERATIONS"] ?? "") ?? iterations / 5
        var bestCodable = 0.0, bestFast = 0.0, bestJSON = 0.0
        var sink = 0
        for _ in 0..<5 {
            let tc = try measure {
                for _ in 0..<iterations {
                    sink &+= try decoder.decode(Profile.self, from: encoder.encode(profile)).age
                }
            }
            let tf = try measure {
                for _ in 0..<iterations {
                    sink &+= try decoder.decode(FastProfile.self, from: encoder.encode(fast)).profile.age
                }
            }
            let tj = try measure {
                for _ in 0..<jsonIterations {
                    sink &+= try jsonDecoder.decode(Profile.self, from: jsonEncoder.encode(profile)).age
                }
            }
            bestCodable = max(bestCodable, Double(iterations) / tc)
            bestFast = max(bestFast, Double(iterations) / tf)
            bestJSON = max(bestJSON, jsonIterations == 0 ? 1 : Double(jsonIterations) / tj)
        }
        let tfloor = try measure {
            for _ in 0..<iterations {
                try CodableFloor.encode(profile)
                sink &+= try CodableFloor.decode(Profile.self).age &+ 1
            }
        }
        precondition(sink != 0)
        print("  (\(viaCodable.byteCount) bytes; Codable itself, with an encoder and decoder that touch no bytes: \(Int(Double(iterations) / tfloor).formatted()) docs/s)")
        return [
            BenchmarkResult(name: "bson.encode+decode", unit: "docs/s", herald: bestFast, reference: bestJSON,
                            referenceName: "Foundation JSON", minimumRatio: nil, absoluteTarget: 500_000),
            BenchmarkResult(name: "bson.codable encode+decode", unit: "docs/s", herald: bestCodable, reference: bestJSON,
                            referenceName: "Foundation JSON", minimumRatio: nil, absoluteTarget: nil),
        ]
    }
}
