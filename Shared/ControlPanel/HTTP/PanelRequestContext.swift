import Hummingbird
import NIOCore

/// The request context of `control`: who is calling (set by ``AuthenticationMiddleware``) and
/// from which address.
public struct PanelRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: Identity?
    /// The peer's address (the first `X-Forwarded-For` hop when a trusted proxy is configured).
    public var address: String
    /// The interface language chosen for this request.
    public var language: String = "en"
    /// A catalog key under `notices.` to show once (from `?notice=`).
    public var notice: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        address = source.channel.remoteAddress?.ipAddress ?? ""
    }

    /// The caller, or 401 when there is none (the middleware lets no such request through to a
    /// protected route, so this only guards against a route registered as public by mistake).
    public func requireIdentity() throws -> Identity {
        guard let identity else { throw HTTPError(.unauthorized) }
        return identity
    }
}
