import BounceParsing
import Foundation

/// Bounce analysis of the real-world corpus on one core. The target is absolute (no reference
/// program analyses bounces the same way in this process); Sisimai, the reference for verdicts,
/// is a Perl program and is not timed here.
enum BounceBenchmark {
    static func run(directory: String, rounds: Int) throws -> BenchmarkResult {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".eml") }.sorted()
        let messages = try files.map { Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\($0)"))) }
        var best = 0.0
        var found = 0
        for _ in 0..<3 {
            let t = measure {
                for _ in 0..<rounds {
                    for m in messages { found &+= BounceAnalyzer.analyze(m).count }
                }
            }
            best = max(best, Double(rounds * messages.count) / t)
        }
        precondition(found > 0)
        return BenchmarkResult(name: "bounce.analyze", unit: "msgs/s", herald: best, reference: best,
                               referenceName: "(absolute)", minimumRatio: nil, absoluteTarget: 5_000)
    }
}
