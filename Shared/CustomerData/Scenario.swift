import Foundation

/// A scenario (an automation graph) as other capabilities see it (settings store, `scenarios`):
/// which database's profiles it takes, whether it is running, and its version. Its graph and
/// engine belong to the scenarios capability; the profile card and the API hand it profiles
/// through `ScenarioEntry` messages on the bus (`scenarios.entries`).
public struct Scenario: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        case draft, active, paused, archived
    }

    public var _id: String
    public var accountId: String
    public var databaseId: String
    public var name: String
    public var status: Status
    public var version: Int64
    public var updatedAt: Date

    public init(id: String = UUID().uuidString.lowercased(), accountId: String, databaseId: String, name: String, status: Status = .draft,
                version: Int64 = 1, updatedAt: Date = Date()) {
        _id = id
        self.accountId = accountId
        self.databaseId = databaseId
        self.name = name
        self.status = status
        self.version = version
        self.updatedAt = updatedAt
    }

    public static let collectionName = "scenarios"
}
