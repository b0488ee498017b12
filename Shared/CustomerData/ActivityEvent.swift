import BSON
import Foundation

/// Something that happened to a profile: an import or edit, a message sent, delivered, opened,
/// clicked or bounced, a site visit or goal, a form, a promo code, a scenario step, or a custom
/// event from the events API. The profile card's timeline lists them newest first.
public struct ActivityEvent: Codable, Sendable, Equatable {
    public var _id: String
    public var accountId: String
    public var databaseId: String
    public var profileId: String
    public var at: Date
    /// `profile.created`, `profile.updated`, `message.opened`, `site.visit`, `goal.reached`, … —
    /// dotted lower-case words; the part before the dot is the filterable group.
    public var kind: String
    /// Where it came from: `import`, `panel`, `api`, `tracker`, `mta`, …
    public var source: String
    public var properties: BSONDocument

    public init(accountId: String, databaseId: String, profileId: String, at: Date = Date(), kind: String, source: String, properties: BSONDocument = [:]) {
        _id = ObjectId().hex
        self.accountId = accountId
        self.databaseId = databaseId
        self.profileId = profileId
        self.at = at
        self.kind = kind
        self.source = source
        self.properties = properties
    }

    /// A valid kind: 1–64 characters of lower-case letters, digits, `_` and `.`, starting with a letter.
    public static func isValidKind(_ kind: String) -> Bool {
        guard let first = kind.unicodeScalars.first, ("a"..."z").contains(first), kind.count <= 64 else { return false }
        return kind.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "." }
    }
}
