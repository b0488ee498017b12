import Foundation

/// What one mta-sender node reports every few seconds (settings store, `sender_nodes`), for the
/// panel's Queues page and `GET /api/v1/delivery/queues`: each destination it is working on.
public struct SenderNodeReport: Codable, Sendable {
    public struct Site: Codable, Sendable, Equatable {
        /// The MX hosts (MX rollup), or the relay.
        public var site: String
        public var pool: String
        /// A domain that led here (one of possibly many).
        public var domains: [String]
        public var rule: String
        /// Messages waiting on this node for a connection.
        public var waiting: Int
        /// Messages being sent now.
        public var inFlight: Int
        public var connections: Int
        /// Backing off (after 421 / 4.7.x, or unreachable) until then.
        public var suspendedUntil: Date?
        public var paused: Bool
        /// Since the node started.
        public var delivered: Int
        public var deferred: Int
        public var bounced: Int
        public var failed: Int
        public var lastReply: String

        public init(site: String, pool: String, domains: [String], rule: String, waiting: Int, inFlight: Int, connections: Int, suspendedUntil: Date?,
                    paused: Bool, delivered: Int, deferred: Int, bounced: Int, failed: Int, lastReply: String) {
            self.site = site
            self.pool = pool
            self.domains = domains
            self.rule = rule
            self.waiting = waiting
            self.inFlight = inFlight
            self.connections = connections
            self.suspendedUntil = suspendedUntil
            self.paused = paused
            self.delivered = delivered
            self.deferred = deferred
            self.bounced = bounced
            self.failed = failed
            self.lastReply = lastReply
        }
    }

    /// The node's name (`mta.node`).
    public var _id: String
    public var startedAt: Date
    public var updatedAt: Date
    public var sites: [Site]

    public init(_id: String, startedAt: Date, updatedAt: Date, sites: [Site]) {
        self._id = _id
        self.startedAt = startedAt
        self.updatedAt = updatedAt
        self.sites = sites
    }

    public static let collectionName = "sender_nodes"
}
