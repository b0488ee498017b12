import Foundation

/// A message to publish.
public struct AMQPMessage: Sendable {
    public var exchange: String
    public var routingKey: String
    public var body: [UInt8]
    /// Unique per message, so that consumers can drop the duplicates at-least-once delivery brings.
    public var messageId: String?
    /// The contract's name and version, e.g. `herald.events.v1.MessageEvent`.
    public var type: String?
    public var contentType: String?
    public var correlationId: String?
    public var replyTo: String?
    /// The producing service.
    public var appId: String?
    public var timestamp: Date?
    public var headers: [String: AMQPFieldValue]
    /// Written to disk by the broker (delivery mode 2), so it survives a broker restart in a durable queue.
    public var persistent: Bool
    /// Per-message expiry in milliseconds.
    public var expiration: Int?

    public init(
        exchange: String, routingKey: String, body: [UInt8], messageId: String? = nil, type: String? = nil,
        contentType: String? = nil, correlationId: String? = nil, replyTo: String? = nil, appId: String? = nil,
        timestamp: Date? = nil, headers: [String: AMQPFieldValue] = [:], persistent: Bool = true, expiration: Int? = nil
    ) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.messageId = messageId
        self.type = type
        self.contentType = contentType
        self.correlationId = correlationId
        self.replyTo = replyTo
        self.appId = appId
        self.timestamp = timestamp
        self.headers = headers
        self.persistent = persistent
        self.expiration = expiration
    }
}

/// The properties a delivered message carries.
public struct AMQPProperties: Sendable, Equatable {
    public var messageId: String?
    public var type: String?
    public var contentType: String?
    public var correlationId: String?
    public var replyTo: String?
    public var appId: String?
    public var timestamp: Date?
    public var headers: [String: AMQPFieldValue]
    public var persistent: Bool

    public init(messageId: String? = nil, type: String? = nil, contentType: String? = nil, correlationId: String? = nil,
                replyTo: String? = nil, appId: String? = nil, timestamp: Date? = nil, headers: [String: AMQPFieldValue] = [:], persistent: Bool = false)
    {
        self.messageId = messageId
        self.type = type
        self.contentType = contentType
        self.correlationId = correlationId
        self.replyTo = replyTo
        self.appId = appId
        self.timestamp = timestamp
        self.headers = headers
        self.persistent = persistent
    }
}
