import Foundation

/// A pool of promo codes (Promo codes in the panel): codes uploaded or generated, each issued to
/// at most one profile. Issuing takes the pool's next free code atomically, so two callers never
/// get the same one.
public struct PromoCodePool: Codable, Sendable, Equatable {
    public var _id: String
    public var accountId: String
    public var name: String
    public var description: String
    public var createdAt: Date
    public var createdBy: String

    public init(id: String = UUID().uuidString.lowercased(), accountId: String, name: String, description: String = "", createdAt: Date = Date(), createdBy: String) {
        _id = id
        self.accountId = accountId
        self.name = name
        self.description = description
        self.createdAt = createdAt
        self.createdBy = createdBy
    }

    public static let collectionName = "promo_pools"
}
