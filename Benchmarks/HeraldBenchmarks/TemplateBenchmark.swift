import Foundation
import HeraldTesting
import Templates

/// Renders of the reference email (~10 KB, 20 substitutions, 3 conditions, a loop, 2 fragments)
/// on one core, beside Jinja2 rendering its twin in the same run.
enum TemplateBenchmark {
    static func run(directory: String, python: String, iterations: Int) throws -> BenchmarkResult {
        func read(_ name: String) throws -> String { try String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8) }
        let header = try read("header.liquid"), footer = try read("footer.liquid")
        let engine = TemplateEngine(fragments: { ["header": header, "footer": footer][$0] })
        let template = try engine.compile(try read("email.liquid"), name: "email")
        let context = try JSONDecoder().decode([String: TemplateValue].self, from: Data(try read("context.json").utf8))
        var best = 0.0
        var bytes = 0
        for _ in 0..<3 {
            let t = try measure {
                for _ in 0..<iterations { bytes &+= try template.renderBytes(context).count }
            }
            best = max(best, Double(iterations) / t)
        }
        precondition(bytes > 0)
        let jinja = try ChildProcess(executable: python, arguments: [
            TestEnvironment.repositoryRoot.appendingPathComponent("Benchmarks/reference/jinja_reference.py").path, directory, "1.0",
        ])
        guard jinja.waitForExit() == 0, let rate = parseRates(jinja.output)["renders_per_s"] else {
            throw TestServerError(message: "jinja_reference.py failed: \(jinja.output)")
        }
        return BenchmarkResult(name: "template.render", unit: "renders/s", herald: best, reference: rate,
                               referenceName: "Jinja2", minimumRatio: 5, absoluteTarget: 100_000)
    }
}
