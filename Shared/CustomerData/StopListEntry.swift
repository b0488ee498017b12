import BSON
import Foundation

/// An address, a whole mail domain or a phone number that no channel sends to (settings store,
/// `stop_list`): added by hard bounces, complaints, people in the panel or the API, or an import;
/// removed only with a reason. mta-sender and the SMS senders consult it before every delivery.
public struct StopListEntry: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable { case address, domain, phone }
    public enum Source: String, Codable, Sendable, CaseIterable { case bounce, complaint, manual, `import` }

    /// `<account>:<kind>:<value>`.
    public var _id: String
    public var accountId: String
    public var kind: Kind
    /// Lower-case for addresses and domains, E.164 for phones.
    public var value: String
    public var reason: String
    public var source: Source
    public var createdAt: Date
    public var createdBy: String

    public init(accountId: String, kind: Kind, value: String, reason: String, source: Source, by who: String, at: Date = Date()) {
        _id = "\(accountId):\(kind.rawValue):\(value)"
        self.accountId = accountId
        self.kind = kind
        self.value = value
        self.reason = reason
        self.source = source
        createdAt = at
        createdBy = who
    }

    public static let collectionName = "stop_list"

    /// The entry's value in stored form, or why it cannot be one: an e-mail address, a domain
    /// (`example.com`, also written `@example.com`), or a phone number brought to E.164.
    public static func normalize(_ raw: String, as kind: Kind) -> Result<String, FieldValueParser.Failure> {
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        switch kind {
        case .address:
            return FieldValueParser.parse(.text(text), as: FieldDefinition(key: "value", title: "value", type: .email)).map { $0.stringValue ?? text }
        case .phone:
            return FieldValueParser.parse(.text(text), as: FieldDefinition(key: "value", title: "value", type: .phone)).map { $0.stringValue ?? text }
        case .domain:
            var domain = text.lowercased()
            if domain.hasPrefix("@") { domain.removeFirst() }
            let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
            guard labels.count >= 2, domain.count <= 253,
                  labels.allSatisfy({ !$0.isEmpty && $0.count <= 63 && !$0.hasPrefix("-") && !$0.hasSuffix("-") && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } })
            else {
                return .failure(FieldValueParser.Failure(field: "value", message: "'\(text)' is not a mail domain (example.com)"))
            }
            return .success(domain)
        }
    }
}
