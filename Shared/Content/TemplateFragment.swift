import BSON
import Foundation

/// A reusable block (header, footer, legal text) that templates include by key:
/// `{% include "footer" %}` (settings store, `template_fragments`).
public struct TemplateFragment: Codable, Sendable, Equatable {
    public var _id: String
    public var accountId: String
    /// What `{% include "key" %}` names: lower-case letters, digits, `_` and `-`.
    public var key: String
    public var title: String
    public var source: String
    public var updatedAt: Date
    public var updatedBy: String

    public init(accountId: String, key: String, title: String, source: String, by login: String) {
        _id = ObjectId().hex
        self.accountId = accountId
        self.key = key
        self.title = title
        self.source = source
        updatedAt = Date()
        updatedBy = login
    }

    public static func isValidKey(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, ("a"..."z").contains(first), key.count <= 64 else { return false }
        return key.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
    }

    /// The fragment keys a template source includes (`{% include "key" %}`, `{% include 'key' %}`).
    public static func includes(in source: String) -> Set<String> {
        guard let regex = try? NSRegularExpression(pattern: #"\{%-?\s*include\s+["']([^"']+)["']"#) else { return [] }
        let range = NSRange(source.startIndex..., in: source)
        return Set(regex.matches(in: source, range: range).compactMap { match in Range(match.range(at: 1), in: source).map { String(source[$0]) } })
    }
}
