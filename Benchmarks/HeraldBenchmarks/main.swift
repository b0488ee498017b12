import Foundation

// herald-bench: every benchmark prints Herald's rate beside a reference measured in the same run.
//   herald-bench [bson] [templates] [bounces] [amqp] [mongo] [import] [events] [segments] [tracker] [sender] [campaign]   (all by default)
// Reference programs are found in HERALD_BENCH_REFERENCES (Benchmarks/run.sh builds them).
let env = ProcessInfo.processInfo.environment
let references = env["HERALD_BENCH_REFERENCES"] ?? "Benchmarks/reference/bin"
var which = Set(CommandLine.arguments.dropFirst())
if which.isEmpty { which = ["bson", "templates", "bounces", "amqp", "mongo", "import", "events", "segments", "tracker", "sender", "campaign"] }

var results: [BenchmarkResult] = []
do {
    if which.contains("bson") {
        for r in try BSONBenchmark.run(iterations: Int(env["HERALD_BENCH_BSON_ITERATIONS"] ?? "") ?? 200_000) {
            results.append(r)
            print(r.line)
        }
    }
    if which.contains("templates") {
        let result = try TemplateBenchmark.run(
            directory: env["HERALD_BENCH_EMAIL"] ?? "Tests/TemplatesTests/ReferenceEmail",
            python: env["HERALD_BENCH_PYTHON"] ?? ".stack/venv/bin/python",
            iterations: Int(env["HERALD_BENCH_TEMPLATE_ITERATIONS"] ?? "") ?? 20_000)
        results.append(result)
        print(result.line)
    }
    if which.contains("bounces") {
        let result = try BounceBenchmark.run(directory: env["HERALD_BENCH_BOUNCES"] ?? "Tests/BounceParsingTests/Corpus/eml", rounds: 5)
        results.append(result)
        print(result.line)
    }
    if which.contains("amqp") {
        for r in try await AMQPBenchmark.run(reference: "\(references)/amqp_reference", host: "127.0.0.1",
                                             port: Int(env["AMQP_PORT"] ?? "") ?? 5672,
                                             count: Int(env["HERALD_BENCH_AMQP_MESSAGES"] ?? "") ?? 20_000, size: 256, window: 1000, prefetch: 500) {
            results.append(r)
            print(r.line)
        }
    }
    if which.contains("mongo") {
        for r in try await MongoBenchmark.run(reference: "\(references)/mongo_reference",
                                              uri: env["HERALD_BENCH_MONGO_URI"] ?? "mongodb://127.0.0.1:27052",
                                              count: Int(env["HERALD_BENCH_MONGO_DOCUMENTS"] ?? "") ?? 20_000, batch: 1000) {
            results.append(r)
            print(r.line)
        }
    }
    if which.contains("import") {
        for r in try await ImportBenchmark.run(uri: env["HERALD_BENCH_MONGO_URI"] ?? "mongodb://127.0.0.1:27052",
                                               count: Int(env["HERALD_BENCH_IMPORT_ROWS"] ?? "") ?? 200_000) {
            results.append(r)
            print(r.line)
        }
    }
    if which.contains("events") {
        for r in try await EventsBenchmark.run(settingsURI: env["HERALD_BENCH_SETTINGS_URI"] ?? "mongodb://127.0.0.1:27051",
                                               customersURI: env["HERALD_BENCH_MONGO_URI"] ?? "mongodb://127.0.0.1:27052",
                                               amqpURL: "amqp://guest:guest@127.0.0.1:\(env["AMQP_PORT"] ?? "5672")",
                                               requests: Int(env["HERALD_BENCH_EVENT_REQUESTS"] ?? "") ?? 10, perRequest: 10_000) {
            results.append(r)
            print(r.line)
        }
    }
    if which.contains("segments") {
        for r in try await SegmentBenchmark.run(uri: env["HERALD_BENCH_MONGO_URI"] ?? "mongodb://127.0.0.1:27052",
                                                profiles: Int(env["HERALD_BENCH_SEGMENT_PROFILES"] ?? "") ?? 200_000,
                                                evaluations: Int(env["HERALD_BENCH_SEGMENT_EVALUATIONS"] ?? "") ?? 2_000_000) {
            results.append(r)
            print(r.line)
        }
    }
    if which.contains("tracker") {
        for r in try await TrackerBenchmark.run(binaries: env["HERALD_BENCH_BIN"] ?? ".build/release", amqpURL: "amqp://guest:guest@127.0.0.1:\(env["AMQP_PORT"] ?? "5672")",
                                                settingsURI: env["HERALD_BENCH_SETTINGS_URI"] ?? "mongodb://127.0.0.1:27051",
                                                customersURI: env["HERALD_BENCH_MONGO_URI"] ?? "mongodb://127.0.0.1:27052",
                                                seconds: Int(env["HERALD_BENCH_TRACKER_SECONDS"] ?? "") ?? 10, connections: 64) {
            results.append(r)
            print(r.line)
        }
    }
    if which.contains("sender") {
        for r in try await SenderBenchmark.run(binaries: env["HERALD_BENCH_BIN"] ?? ".build/release", amqpURL: "amqp://guest:guest@127.0.0.1:\(env["AMQP_PORT"] ?? "5672")",
                                               settingsURI: env["HERALD_BENCH_SETTINGS_URI"] ?? "mongodb://127.0.0.1:27051",
                                               count: Int(env["HERALD_BENCH_SENDER_MESSAGES"] ?? "") ?? 100_000,
                                               signedCount: Int(env["HERALD_BENCH_SENDER_SIGNED"] ?? "") ?? 20_000) {
            results.append(r)
            print(r.line)
        }
    }
    if which.contains("campaign") {
        for r in try await CampaignBenchmark.run(binaries: env["HERALD_BENCH_BIN"] ?? ".build/release", settingsURI: env["HERALD_BENCH_SETTINGS_URI"] ?? "mongodb://127.0.0.1:27051",
                                                 customersURI: env["HERALD_BENCH_MONGO_URI"] ?? "mongodb://127.0.0.1:27052",
                                                 count: Int(env["HERALD_BENCH_CAMPAIGN_PROFILES"] ?? "") ?? 100_000) {
            results.append(r)
            print(r.line)
        }
    }
} catch {
    FileHandle.standardError.write(Data("herald-bench: \(error)\n".utf8))
    exit(1)
}
let below = results.filter { !$0.passed }
print(below.isEmpty ? "all \(results.count) benchmarks met their targets" : "\(below.count) of \(results.count) benchmarks below target")
