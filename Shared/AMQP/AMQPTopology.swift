/// Exchanges, queues and bindings, declared together and declared again after every reconnect.
public struct AMQPTopology: Sendable, Equatable {
    public var exchanges: [Exchange]
    public var queues: [Queue]
    public var bindings: [Binding]

    public init(exchanges: [Exchange] = [], queues: [Queue] = [], bindings: [Binding] = []) {
        self.exchanges = exchanges
        self.queues = queues
        self.bindings = bindings
    }

    public struct Exchange: Sendable, Equatable {
        public enum Kind: String, Sendable { case direct, topic, fanout, headers }
        public var name: String
        public var kind: Kind
        public var durable: Bool
        public var autoDelete: Bool
        public var isInternal: Bool

        public init(_ name: String, kind: Kind, durable: Bool = true, autoDelete: Bool = false, isInternal: Bool = false) {
            self.name = name
            self.kind = kind
            self.durable = durable
            self.autoDelete = autoDelete
            self.isInternal = isInternal
        }
    }

    public struct Queue: Sendable, Equatable {
        public var name: String
        public var durable: Bool
        public var exclusive: Bool
        public var autoDelete: Bool
        /// Rejected and expired messages go to this exchange (`x-dead-letter-exchange`).
        public var deadLetterExchange: String?
        /// …with this routing key instead of their own (`x-dead-letter-routing-key`).
        public var deadLetterRoutingKey: String?
        /// Messages expire after this many milliseconds in the queue (`x-message-ttl`).
        public var messageTTL: Int?
        /// The queue holds at most this many messages (`x-max-length`); the oldest are dropped or dead-lettered.
        public var maxLength: Int?
        /// What happens at `maxLength`: `drop-head` (default), `reject-publish` or `reject-publish-dlx`.
        public var overflow: String?

        public init(
            _ name: String, durable: Bool = true, exclusive: Bool = false, autoDelete: Bool = false,
            deadLetterExchange: String? = nil, deadLetterRoutingKey: String? = nil, messageTTL: Int? = nil,
            maxLength: Int? = nil, overflow: String? = nil
        ) {
            self.name = name
            self.durable = durable
            self.exclusive = exclusive
            self.autoDelete = autoDelete
            self.deadLetterExchange = deadLetterExchange
            self.deadLetterRoutingKey = deadLetterRoutingKey
            self.messageTTL = messageTTL
            self.maxLength = maxLength
            self.overflow = overflow
        }

        var arguments: [(String, AMQPFieldValue)] {
            var a: [(String, AMQPFieldValue)] = []
            if let deadLetterExchange { a.append(("x-dead-letter-exchange", .string(deadLetterExchange))) }
            if let deadLetterRoutingKey { a.append(("x-dead-letter-routing-key", .string(deadLetterRoutingKey))) }
            if let messageTTL { a.append(("x-message-ttl", .int64(Int64(messageTTL)))) }
            if let maxLength { a.append(("x-max-length", .int64(Int64(maxLength)))) }
            if let overflow { a.append(("x-overflow", .string(overflow))) }
            return a
        }
    }

    public struct Binding: Sendable, Equatable {
        public var queue: String
        public var exchange: String
        public var routingKey: String

        public init(queue: String, exchange: String, routingKey: String) {
            self.queue = queue
            self.exchange = exchange
            self.routingKey = routingKey
        }
    }

    /// This topology followed by `other`.
    public func merging(_ other: AMQPTopology) -> AMQPTopology {
        AMQPTopology(exchanges: exchanges + other.exchanges, queues: queues + other.queues, bindings: bindings + other.bindings)
    }
}

/// A value in an AMQP field table (headers, queue arguments).
public enum AMQPFieldValue: Sendable, Equatable {
    case string(String)
    case int64(Int64)
    case bool(Bool)
}
