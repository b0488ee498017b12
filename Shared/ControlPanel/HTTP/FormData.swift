import Foundation
import Hummingbird

/// An `application/x-www-form-urlencoded` body, keeping repeated names (checkbox lists) in order.
public struct FormData: Sendable {
    public let pairs: [(String, String)]

    public init(_ text: String) {
        pairs = text.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    /// Reads the request's body (at most 1 MiB).
    public static func read(_ request: Request, context: some RequestContext) async throws -> FormData {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        return FormData(String(buffer: buffer))
    }

    public subscript(name: String) -> String? { pairs.first { $0.0 == name }?.1 }

    public func values(_ name: String) -> [String] { pairs.filter { $0.0 == name }.map(\.1) }

    public func flag(_ name: String) -> Bool { ["on", "true", "1", "yes"].contains(self[name] ?? "") }

    /// A whole number, or nil when the field is empty (no limit, the default…).
    public func optionalInt(_ name: String) throws -> Int? {
        let text = (self[name] ?? "").trimmingCharacters(in: .whitespaces)
        if text.isEmpty { return nil }
        guard let value = Int(text) else { throw InvalidInput(name, "not_a_number", text) }
        return value
    }

    /// A number (a decimal comma is read as a point), or nil when the field is empty.
    public func optionalNumber(_ name: String) throws -> Double? {
        let text = (self[name] ?? "").trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: ".")
        if text.isEmpty { return nil }
        guard let value = Double(text) else { throw InvalidInput(name, "not_a_number", text) }
        return value
    }

    public func int(_ name: String) throws -> Int {
        guard let text = self[name]?.trimmingCharacters(in: .whitespaces), let value = Int(text) else {
            throw InvalidInput(name, "not_a_number")
        }
        return value
    }
}
