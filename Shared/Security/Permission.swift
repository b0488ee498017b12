/// One thing a user may do: an action on a kind of resource, written `kind:action`
/// (`campaigns:send`, `profiles:export`). Roles, groups and API token scopes are sets of these.
public struct Permission: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    /// The kinds of objects an account holds.
    public enum Resource: String, CaseIterable, Sendable, Codable {
        case profiles, databases, segments, templates, campaigns, scenarios
        case promoCodes = "promo_codes"
        case forms, reports, channels, settings, users, audit

        /// The actions that mean something for this kind; the role editor offers only these.
        public var actions: [Action] {
            switch self {
            case .profiles: [.view, .create, .edit, .delete, .export, .import]
            case .databases: [.view, .create, .edit, .delete, .export, .import]
            case .segments: [.view, .create, .edit, .delete, .export]
            case .templates: [.view, .create, .edit, .delete]
            case .campaigns, .scenarios: [.view, .create, .edit, .delete, .send]
            case .promoCodes: [.view, .create, .edit, .delete, .export, .import]
            case .forms: [.view, .create, .edit, .delete, .export]
            case .reports: [.view, .export]
            case .channels: [.view, .create, .edit, .delete]
            case .settings: [.view, .edit]
            case .users: [.view, .create, .edit, .delete]
            case .audit: [.view, .export]
            }
        }
    }

    /// What is done to an object.
    public enum Action: String, CaseIterable, Sendable, Codable {
        case view, create, edit, delete, send, export
        case `import`
    }

    public let resource: Resource
    public let action: Action

    public init(_ resource: Resource, _ action: Action) {
        self.resource = resource
        self.action = action
    }

    /// Parses `kind:action`; `nil` when either part is unknown or the action does not apply to the kind.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let resource = Resource(rawValue: String(parts[0])),
              let action = Action(rawValue: String(parts[1])), resource.actions.contains(action)
        else { return nil }
        self.init(resource, action)
    }

    public var description: String { "\(resource.rawValue):\(action.rawValue)" }

    /// Every permission there is, in the order of the role editor's matrix.
    public static let all: [Permission] = Resource.allCases.flatMap { resource in resource.actions.map { Permission(resource, $0) } }

    private static let rank = Dictionary(uniqueKeysWithValues: all.enumerated().map { ($1, $0) })

    public static func < (lhs: Permission, rhs: Permission) -> Bool {
        rank[lhs, default: 0] < rank[rhs, default: 0]
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let permission = Permission(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not a permission"))
        }
        self = permission
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
