import Foundation

/// A message to publish: where it goes, its body, and its properties.
public struct AMQPMessage: Sendable {
    public var exchange: String
    public var routingKey: String
    public var body: [UInt8]
    public var properties: AMQPProperties

    public init(exchange: String, routingKey: String, body: [UInt8], properties: AMQPProperties) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.properties = properties
    }

    /// A message with the properties given one by one; `persistent` defaults to true, so that a
    /// confirmed message in a durable queue survives a broker restart.
    public init(
        exchange: String, routingKey: String, body: [UInt8], messageId: String? = nil, type: String? = nil,
        contentType: String? = nil, correlationId: String? = nil, replyTo: String? = nil, appId: String? = nil,
        timestamp: Date? = nil, headers: [String: AMQPFieldValue] = [:], persistent: Bool = true, expiration: Int? = nil
    ) {
        self.init(exchange: exchange, routingKey: routingKey, body: body, properties: AMQPProperties(
            messageId: messageId, type: type, contentType: contentType, correlationId: correlationId, replyTo: replyTo,
            appId: appId, timestamp: timestamp, headers: headers, persistent: persistent, expiration: expiration))
    }
}

/// The properties of a message, as published and as delivered.
public struct AMQPProperties: Sendable, Equatable {
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
    /// Written to disk by the broker (delivery mode 2).
    public var persistent: Bool
    /// Per-message expiry in milliseconds.
    public var expiration: Int?

    public init(messageId: String? = nil, type: String? = nil, contentType: String? = nil, correlationId: String? = nil,
                replyTo: String? = nil, appId: String? = nil, timestamp: Date? = nil, headers: [String: AMQPFieldValue] = [:],
                persistent: Bool = false, expiration: Int? = nil)
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
        self.expiration = expiration
    }
}
