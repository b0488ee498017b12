import BSON
import Security

/// The authenticated caller of a request: the user, their account, and what they may do.
public struct Identity: Sendable {
    public enum Credential: Sendable {
        case session(PanelSession)
        case token(APIToken)
    }

    public let user: User
    public let account: Account
    /// For a session, the user's permissions; for a token, those limited to the token's scopes.
    public let permissions: Set<Permission>
    public let credential: Credential
    public let address: String

    public func can(_ resource: Permission.Resource, _ action: Permission.Action) -> Bool {
        permissions.contains(Permission(resource, action))
    }

    /// Refuses what the caller may not do: ``AccessDenied`` naming the missing permission.
    public func require(_ resource: Permission.Resource, _ action: Permission.Action) throws {
        guard can(resource, action) else { throw AccessDenied("forbidden_action", "\(resource.rawValue):\(action.rawValue)") }
    }

    public var session: PanelSession? {
        if case .session(let session) = credential { return session }
        return nil
    }

    public var actor: Actor {
        let via = if case .token = credential { "api" } else { "panel" }
        return Actor(accountId: account._id, userId: user._id, login: user.login, via: via, address: address)
    }
}
