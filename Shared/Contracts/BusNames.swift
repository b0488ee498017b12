import SwiftProtobuf

/// Names on the bus, as docs/events.md lists them. Producers and consumers use these constants,
/// never string literals, so a rename is one change.
public enum BusExchange {
    /// Topic exchange of everything that happened: `profile.*`, `message.*`, `site.*`, `form.*`, `job.*`.
    public static let events = "herald.events"
    /// Direct exchange of messages to deliver: `email.bulk`, `email.transactional` and `email.retry`.
    public static let delivery = "herald.delivery"
    /// Direct exchange of work for job-server, by job kind.
    public static let jobs = "herald.jobs"
    /// Where every queue's rejected and expired messages go, routed by the queue's name.
    public static let deadLetter = "herald.dlx"
}

/// Routing keys of the messages in `proto/`.
public enum BusRoutingKey {
    public static func profile(_ kind: Herald_Events_V1_ProfileEvent.Kind) -> String { "profile.\(kind.routingName)" }
    public static func message(_ kind: Herald_Events_V1_MessageEvent.Kind) -> String { "message.\(kind.routingName)" }
    public static func site(_ name: String) -> String { "site.\(name)" }
    public static let formSubmitted = "form.submitted"
    /// A profile to enter a scenario (`ScenarioEntry`).
    public static let scenarioEntry = "scenario.entry"
    /// An activity event of the events API: `activity.<kind>`.
    public static func activity(_ kind: String) -> String { "activity.\(kind)" }
    public static func job(_ state: Herald_Jobs_V1_JobProgress.State) -> String { "job.\(state.routingName)" }
    /// Campaign email, consumed by mta-sender from `delivery.email.bulk`.
    public static let bulkEmail = "email.bulk"
    /// Deferred email due again, from the delay tiers into `delivery.email.retry`.
    public static let retryEmail = "email.retry"
    public static let transactionalEmail = "email.transactional"

    /// The routing key of a job request: its kind.
    public static func jobRequest(_ request: Herald_Jobs_V1_JobRequest) -> String? {
        switch request.kind {
        case .import?: "import"
        case .export?: "export"
        case .segmentBuild?: "segment.build"
        case .campaignLaunch?: "campaign.launch"
        case .scenarioStep?: "scenario.step"
        case .sqlSync?: "sync.sql"
        case nil: nil
        }
    }
}

extension SwiftProtobuf.Enum {
    /// The lower-case name an enum case has in routing keys: `KIND_BOUNCED` → `bounced`
    /// (the Swift case name the generator derives from the proto name).
    var routingName: String { String(describing: self) }
}
