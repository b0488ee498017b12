import Foundation

/// One benchmark's result line: Herald's rate beside the reference measured in the same run.
struct BenchmarkResult {
    var name: String
    var unit: String
    var herald: Double
    var reference: Double
    var referenceName: String
    /// The least acceptable herald/reference ratio, or nil for an absolute target.
    var minimumRatio: Double?
    var absoluteTarget: Double?
    /// The most acceptable value, for costs (memory) rather than rates.
    var absoluteMaximum: Double?

    var ratio: Double { herald / reference }

    var passed: Bool {
        if let minimumRatio, ratio < minimumRatio { return false }
        if let absoluteTarget, herald < absoluteTarget { return false }
        if let absoluteMaximum, herald > absoluteMaximum { return false }
        return true
    }

    var line: String {
        var target: [String] = []
        if let minimumRatio { target.append("ratio ≥ \(String(format: "%.2f", minimumRatio))") }
        if let absoluteTarget { target.append("≥ \(Int(absoluteTarget).formatted()) \(unit)") }
        if let absoluteMaximum { target.append("≤ \(Int(absoluteMaximum).formatted()) \(unit)") }
        return "\(name.padding(toLength: 26, withPad: " ", startingAt: 0)) Herald \(Int(herald).formatted()) \(unit) | "
            + "\(referenceName) \(Int(reference).formatted()) \(unit) | ratio \(String(format: "%.2f", ratio)) | "
            + (target.isEmpty ? "for comparison" : "target \(target.joined(separator: ", ")): \(passed ? "PASS" : "BELOW TARGET")")
    }
}

/// Runs `body` and returns its wall time in seconds.
func measure(_ body: () throws -> Void) rethrows -> Double {
    let clock = ContinuousClock()
    let t = try clock.measure(body)
    return Double(t.components.seconds) + Double(t.components.attoseconds) / 1e18
}

func measure(_ body: () async throws -> Void) async rethrows -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    try await body()
    let t = clock.now - start
    return Double(t.components.seconds) + Double(t.components.attoseconds) / 1e18
}

/// Parses `key=value` pairs printed by a reference program.
func parseRates(_ output: String) -> [String: Double] {
    var result: [String: Double] = [:]
    for pair in output.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
        let parts = pair.split(separator: "=", maxSplits: 1)
        if parts.count == 2, let v = Double(parts[1]) { result[String(parts[0])] = v }
    }
    return result
}
