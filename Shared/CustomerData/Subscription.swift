import Foundation

/// One way to reach a profile on one channel, for one resource (newsletter). A profile may hold
/// any number: several e-mails, phones, chats and push tokens.
public struct Subscription: Codable, Sendable, Equatable {
    public enum Channel: String, Codable, Sendable, CaseIterable {
        case email, sms, telegram
        case webPush = "web_push"
        case mobilePush = "mobile_push"
        case inbox, custom
    }

    public enum Status: String, Codable, Sendable, CaseIterable {
        case active, unsubscribed, bounced, complained
        case stopListed = "stop_listed"
    }

    public var channel: Channel
    /// The e-mail address, phone, chat id, push token or custom id.
    public var address: String
    public var status: Status
    /// The resource (newsletter) it belongs to; empty for the database's default.
    public var resource: String
    public var updatedAt: Date

    public init(channel: Channel, address: String, status: Status = .active, resource: String = "", updatedAt: Date = Date()) {
        self.channel = channel
        self.address = address
        self.status = status
        self.resource = resource
        self.updatedAt = updatedAt
    }

    /// Two subscriptions are the same when channel, address and resource match.
    public func sameTarget(as other: Subscription) -> Bool {
        channel == other.channel && address == other.address && resource == other.resource
    }
}
