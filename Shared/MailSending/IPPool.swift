import Foundation

/// Outgoing addresses that a sending goes out from (settings store, `ip_pools`): each source IP
/// opens its own connections and has its own per-destination rates. A campaign uses its
/// account's pool; messages without one use the host's default route.
public struct IPPool: Codable, Sendable, Equatable {
    /// The pool's name, as deliveries carry it.
    public var _id: String
    public var addresses: [String]
    /// The EHLO name to give from these addresses (their reverse DNS name); the sender's when nil.
    public var heloName: String?
    public var updatedAt: Date

    public init(name: String, addresses: [String], heloName: String? = nil, updatedAt: Date = Date()) {
        _id = name
        self.addresses = addresses
        self.heloName = heloName
        self.updatedAt = updatedAt
    }

    public static let collectionName = "ip_pools"
}
