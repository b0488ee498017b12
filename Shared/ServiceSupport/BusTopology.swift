import AMQP
import Contracts

/// The bus as docs/events.md describes it. Every queue dead-letters into `herald.dlx`, where a
/// `<queue>.dead` queue keeps what could not be processed for an operator to inspect.
public enum BusTopology {
    /// The four exchanges every service may publish to.
    public static let exchanges = AMQPTopology(exchanges: [
        .init(BusExchange.events, kind: .topic),
        .init(BusExchange.delivery, kind: .direct),
        .init(BusExchange.jobs, kind: .direct),
        .init(BusExchange.deadLetter, kind: .direct),
    ])

    /// The job kinds job-server consumes, one queue each (`jobs.<kind>`).
    public static let jobKinds = ["import", "export", "segment.build", "campaign.launch", "scenario.step", "sync.sql"]

    public static var jobQueues: AMQPTopology {
        jobKinds.reduce(AMQPTopology()) { t, kind in t.merging(workQueue("jobs.\(kind)", exchange: BusExchange.jobs, routingKey: kind)) }
    }

    /// Transactional email waits behind no campaign: its own queue, consumed first by mta-sender.
    public static var transactionalEmailQueue: AMQPTopology {
        workQueue("delivery.email.transactional", exchange: BusExchange.delivery, routingKey: BusRoutingKey.transactionalEmail)
    }

    /// Every email queue: bulk (campaigns), transactional, and the retry queue that the delay
    /// tiers (`delivery.email.delay.<n>s`, see `DelayQueues` in MailSending) empty into. Declared
    /// by the publishers too, so that nothing published before a sender starts is lost.
    public static var emailQueues: AMQPTopology {
        var topology = transactionalEmailQueue
            .merging(workQueue("delivery.email.bulk", exchange: BusExchange.delivery, routingKey: BusRoutingKey.bulkEmail))
            .merging(workQueue(emailRetryQueue, exchange: BusExchange.delivery, routingKey: BusRoutingKey.retryEmail))
        for seconds in emailDelayTiers {
            topology.queues.append(.init(emailDelayQueue(seconds), deadLetterExchange: BusExchange.delivery,
                                         deadLetterRoutingKey: BusRoutingKey.retryEmail, messageTTL: seconds * 1000))
        }
        return topology
    }

    /// The delay tiers' times to live, in seconds.
    public static let emailDelayTiers = [1, 5, 30, 120, 600, 1800, 3600]
    public static let emailRetryQueue = "delivery.email.retry"
    public static func emailDelayQueue(_ seconds: Int) -> String { "delivery.email.delay.\(seconds)s" }

    /// Message outcomes (`message.*`) for job-server's send log, activity and subscription writer.
    public static var messageEventsQueue: AMQPTopology {
        workQueue("events.messages", exchange: BusExchange.events, routingKey: "message.#")
    }

    /// Profiles asked to enter scenarios (`ScenarioEntry`), kept for the scenario engine. Declared
    /// by the publishers, so that an entry asked for before the engine runs waits for it.
    public static var scenarioEntriesQueue: AMQPTopology {
        workQueue("scenarios.entries", exchange: BusExchange.events, routingKey: BusRoutingKey.scenarioEntry)
    }

    /// Activity from the events API, written to profiles by job-server in batches.
    public static var activityQueue: AMQPTopology {
        workQueue("events.activity", exchange: BusExchange.events, routingKey: "activity.#")
    }

    /// A durable queue bound to `exchange`, with its dead-letter queue.
    public static func workQueue(_ name: String, exchange: String, routingKey: String) -> AMQPTopology {
        AMQPTopology(
            queues: [
                .init(name, deadLetterExchange: BusExchange.deadLetter, deadLetterRoutingKey: "\(name).dead"),
                .init("\(name).dead"),
            ],
            bindings: [
                .init(queue: name, exchange: exchange, routingKey: routingKey),
                .init(queue: "\(name).dead", exchange: BusExchange.deadLetter, routingKey: "\(name).dead"),
            ]
        )
    }
}
