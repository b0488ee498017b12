import AMQP

/// What distinguishes one Herald executable: its name, its HTTP port in the documented layout
/// (docs/ports.md), and the part of the bus it declares.
public struct ServiceDescriptor: Sendable {
    /// The executable's name: control, tracker, job-server, mta-sender, bounce-fbl-reader.
    public let name: String
    /// The default `http.port`.
    public let defaultHTTPPort: Int
    /// What the HTTP server is for, in the startup log.
    public let httpRole: String
    /// Exchanges and queues this service needs; declared at start and after every reconnect.
    public let topology: AMQPTopology

    public init(name: String, defaultHTTPPort: Int, httpRole: String, topology: AMQPTopology) {
        self.name = name
        self.defaultHTTPPort = defaultHTTPPort
        self.httpRole = httpRole
        self.topology = topology
    }

    /// The web panel and REST API (80/443 in production).
    public static let control = ServiceDescriptor(name: "control", defaultHTTPPort: 80, httpRole: "panel and API",
                                                 topology: BusTopology.exchanges.merging(BusTopology.activityQueue).merging(BusTopology.emailQueues)
                                                     .merging(BusTopology.messageEventsQueue).merging(BusTopology.scenarioEntriesQueue))
    /// Links, opens, unsubscribe, web pixel, site events and forms, on its own address (80/443).
    public static let tracker = ServiceDescriptor(name: "tracker", defaultHTTPPort: 80, httpRole: "tracking endpoints", topology: BusTopology.exchanges)
    /// Imports, exports, segment builds, campaign expansion, scenarios and syncs; its API on 19888.
    public static let jobServer = ServiceDescriptor(name: "job-server", defaultHTTPPort: 19888, httpRole: "job API", topology: BusTopology.exchanges.merging(BusTopology.jobQueues).merging(BusTopology.activityQueue)
                                                     .merging(BusTopology.emailQueues).merging(BusTopology.messageEventsQueue))
    /// The email sender; admin endpoints on 19891.
    public static let mtaSender = ServiceDescriptor(name: "mta-sender", defaultHTTPPort: 19891, httpRole: "admin endpoints", topology: BusTopology.exchanges.merging(BusTopology.emailQueues))
    /// POP3 bounce and feedback-loop mailboxes; admin endpoints on 19892.
    public static let bounceFBLReader = ServiceDescriptor(name: "bounce-fbl-reader", defaultHTTPPort: 19892, httpRole: "admin endpoints", topology: BusTopology.exchanges)
}
