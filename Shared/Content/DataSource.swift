import BSON
import Foundation

/// A named external source a template reads as a variable (settings store, `template_sources`):
/// an SQL query bound to the recipient's profile (`$1`, `$2`… are the listed profile fields), or
/// an HTTP request whose URL is a template over the profile and whose JSON answer becomes the
/// variable. Every lookup has a timeout; answers are cached per sending; a source that fails or
/// is too slow gives its fallback, or — when `required` — fails that recipient, never the sending.
public struct DataSource: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable { case sql, http }

    public var _id: String
    public var accountId: String
    /// The variable's name in templates: `{% for p in recommendations %}`.
    public var name: String
    public var kind: Kind
    /// SQL: `postgresql://…` or `mysql://…` (a secret); HTTP: a URL template, e.g.
    /// `https://shop.example/api/recs?email={{ profile.email | url_encode }}`.
    public var url: String
    /// SQL: one SELECT with `$1`, `$2`… for `parameters`.
    public var query: String
    /// SQL: the profile fields bound to `$1`, `$2`….
    public var parameters: [String]
    /// HTTP: headers sent (values may be templates).
    public var headers: [String: String]
    public var timeoutMilliseconds: Int
    /// How long an answer is reused within a sending, for the same parameters.
    public var cacheSeconds: Int
    /// JSON used when the source fails or is slow (`null` when empty).
    public var fallback: String
    /// Fail the recipient instead of using the fallback.
    public var required: Bool
    public var updatedAt: Date

    public init(accountId: String, name: String, kind: Kind, url: String, query: String = "", parameters: [String] = [], headers: [String: String] = [:],
                timeoutMilliseconds: Int = 2000, cacheSeconds: Int = 300, fallback: String = "", required: Bool = false)
    {
        _id = ObjectId().hex
        self.accountId = accountId
        self.name = name
        self.kind = kind
        self.url = url
        self.query = query
        self.parameters = parameters
        self.headers = headers
        self.timeoutMilliseconds = timeoutMilliseconds
        self.cacheSeconds = cacheSeconds
        self.fallback = fallback
        self.required = required
        updatedAt = Date()
    }

    /// A name a template can read: a letter, then letters, digits and `_`; not a built-in variable.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) || ("A"..."Z").contains(first), name.count <= 64 else { return false }
        return !["profile", "message", "campaign", "forloop"].contains(name)
            && name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }
    }
}
