import Foundation

/// The interface strings of one language, from `Resources/Locales/<code>.json` (nested objects,
/// addressed as `section.key`). Adding a language is adding a file; `Catalogs` finds it.
public struct Catalog: Sendable {
    public let code: String
    /// The name of the language in itself (`English`, `Русский`), from the file's `language.name`.
    public let name: String
    let strings: [String: String]
    /// The nested form, handed to Mustache templates as `t`.
    let tree: [String: any Sendable]

    init(code: String, json: Data) throws {
        guard let object = try JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "catalog \(code) is not a JSON object"])
        }
        var flat: [String: String] = [:]
        func walk(_ node: [String: Any], _ prefix: String) -> [String: any Sendable] {
            var out: [String: any Sendable] = [:]
            for (key, value) in node {
                let path = prefix.isEmpty ? key : prefix + "." + key
                if let text = value as? String {
                    flat[path] = text
                    out[key] = text
                } else if let child = value as? [String: Any] {
                    out[key] = walk(child, path)
                }
            }
            return out
        }
        tree = walk(object, "")
        strings = flat
        self.code = code
        name = flat["language.name"] ?? code
    }

    /// The string at `key` with `{0}`, `{1}`… replaced; the key itself when missing, so a gap shows.
    public func text(_ key: String, _ arguments: [String] = []) -> String {
        var text = strings[key] ?? key
        for (index, argument) in arguments.enumerated() { text = text.replacingOccurrences(of: "{\(index)}", with: argument) }
        return text
    }

    public var keys: Set<String> { Set(strings.keys) }
}

/// Every catalog there is, and the choice of one for a request.
public struct Catalogs: Sendable {
    public let all: [String: Catalog]
    public let fallback: String

    public init(directory: URL, fallback: String = "en") throws {
        var all: [String: Catalog] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) where file.hasSuffix(".json") {
            let code = String(file.dropLast(5))
            all[code] = try Catalog(code: code, json: Data(contentsOf: directory.appendingPathComponent(file)))
        }
        guard all[fallback] != nil else { throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "no \(fallback).json in \(directory.path)"]) }
        self.all = all
        self.fallback = fallback
    }

    public subscript(code: String) -> Catalog { all[code] ?? all[fallback]! }

    /// The user's preference, else the language cookie, else the best match of `Accept-Language`
    /// (`ru-RU,ru;q=0.9,en;q=0.8`), else the fallback.
    public func choose(user: String?, cookie: String?, acceptLanguage: String?) -> String {
        if let user, all[user] != nil { return user }
        if let cookie, all[cookie] != nil { return cookie }
        if let header = acceptLanguage {
            let ranked = header.split(separator: ",").compactMap { part -> (String, Double)? in
                let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                guard let tag = pieces.first, !tag.isEmpty else { return nil }
                let q = pieces.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
                return (String(tag.lowercased().split(separator: "-").first ?? ""), q)
            }.sorted { $0.1 > $1.1 }
            if let match = ranked.first(where: { all[$0.0] != nil && $0.1 > 0 }) { return match.0 }
        }
        return fallback
    }
}
