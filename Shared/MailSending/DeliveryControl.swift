import Foundation

/// An operator's standing instruction for one destination (settings store, `delivery_controls`,
/// from the panel's Queues page or `/api/v1/delivery/sites/{site}/…`), read by every sender node.
public struct DeliveryControl: Codable, Sendable, Equatable {
    /// The site (MX hosts, as reports name it).
    public var _id: String
    /// Nothing is sent to the site while paused; its messages wait in the delay queues.
    public var paused: Bool
    /// Messages for the site queued before this time are dropped (reported as failed, "purged").
    public var purgedAt: Date?
    /// Deferred messages for the site parked before this time are tried at once when they come back.
    public var retryAt: Date?
    public var updatedAt: Date
    public var updatedBy: String

    public init(site: String, paused: Bool = false, purgedAt: Date? = nil, retryAt: Date? = nil, updatedAt: Date = Date(), updatedBy: String) {
        _id = site
        self.paused = paused
        self.purgedAt = purgedAt
        self.retryAt = retryAt
        self.updatedAt = updatedAt
        self.updatedBy = updatedBy
    }

    public static let collectionName = "delivery_controls"
}
