import DNS
import Foundation

/// One destination on this node — the MX hosts that a set of domains share (MX rollup), through
/// one IP pool — with its own queue, connections, rates and backoff.
actor DeliverySite {
    /// What a connection does next.
    enum Next: Sendable {
        case send(OutboundMessage)
        /// The rate limit allows nothing yet: wait this long and ask again.
        case wait(Double)
        /// Close the connection: no more work, the destination is backing off, or it has sent its share.
        case close
    }

    struct Counters: Sendable, Codable {
        var delivered = 0
        var deferred = 0
        var bounced = 0
        var failed = 0
    }

    nonisolated let key: String
    nonisolated let site: String
    nonisolated let pool: String
    private(set) var route: MailRoute
    private(set) var rule: DestinationRule
    /// Source IPs; one nil entry when the pool is the default route.
    private let sources: [String?]
    private var nextSource = 0

    private var queue: [OutboundMessage] = []
    private var head = 0
    private(set) var connections = 0
    private(set) var inFlight = 0
    private(set) var suspendedUntil: Date?
    private(set) var pausedByOperator = false
    private var limiters: [String: RateLimiter] = [:]
    /// Per source IP: the UTC day (days since 1970) and how many messages it sent then, for the rule's warm-up.
    private var sentToday: [String: (day: Int, count: Int)] = [:]
    private(set) var counters = Counters()
    private(set) var lastReply = ""
    private(set) var lastActivity = Date()

    init(site: String, pool: String, route: MailRoute, rule: DestinationRule, sources: [String]) {
        self.site = site
        self.pool = pool
        key = "\(site)|\(pool)"
        self.route = route
        self.rule = rule
        self.sources = sources.isEmpty ? [nil] : sources
    }

    var waiting: Int { queue.count - head }

    /// Takes a message; true when one more connection should be opened for it.
    func enqueue(_ message: OutboundMessage) -> Bool {
        queue.append(message)
        lastActivity = Date()
        return shouldOpenConnection()
    }

    /// Why messages must wait elsewhere now (the destination backs off or is paused), and until when.
    func holdUntil(now: Date = Date()) -> Date? {
        if pausedByOperator { return now.addingTimeInterval(30) }
        if let suspendedUntil, suspendedUntil > now { return suspendedUntil }
        return nil
    }

    private func shouldOpenConnection() -> Bool {
        guard holdUntil() == nil, connections < rule.maxConnections, waiting > 0 else { return false }
        // One connection per few waiting messages, up to the rule's maximum.
        guard connections == 0 || waiting > connections * 2 else { return false }
        connections += 1
        return true
    }

    /// The source IP for a new connection (round robin over the pool).
    func takeSource() -> String? {
        defer { nextSource = (nextSource + 1) % sources.count }
        return sources[nextSource]
    }

    /// The next message for a connection from `source` that has sent `sent` messages.
    func next(source: String?, sent: Int, now: Date = Date()) -> Next {
        guard holdUntil() == nil, sent < rule.messagesPerConnection, waiting > 0 else { return .close }
        let ip = source ?? ""
        let today = Int((now.timeIntervalSince1970 / 86_400).rounded(.down))
        var usedToday = sentToday[ip].map { $0.day == today ? $0.count : 0 } ?? 0
        if let allowance = rule.warmUp?.allowance(on: now), usedToday >= allowance {
            // This IP's day with the provider is used up: the destination waits for tomorrow.
            return .wait(ProviderWarmUp.secondsToNextDay(from: now))
        }
        if rule.perMinute != nil || rule.perHour != nil {
            var limiter = limiters[ip] ?? RateLimiter(perMinute: rule.perMinute, perHour: rule.perHour)
            let wait = limiter.take(at: now.timeIntervalSince1970)
            limiters[ip] = limiter
            if let wait { return .wait(wait) }
        }
        usedToday += 1
        sentToday[ip] = (today, usedToday)
        let message = queue[head]
        head += 1
        if head > 1024 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
        inFlight += 1
        return .send(message)
    }

    /// A message's attempt ended.
    func finished(delivered: Bool = false, deferred: Bool = false, bounced: Bool = false, failed: Bool = false, reply: String) {
        inFlight -= 1
        if delivered { counters.delivered += 1 }
        if deferred { counters.deferred += 1 }
        if bounced { counters.bounced += 1 }
        if failed { counters.failed += 1 }
        lastReply = reply
        lastActivity = Date()
    }

    /// Messages deferred without an attempt of their own (their destination could not be reached).
    func count(deferred: Int) {
        counters.deferred += deferred
    }

    /// A message taken but not attempted (its connection broke first) goes back to the front.
    func putBack(_ message: OutboundMessage) {
        inFlight -= 1
        if head > 0 {
            head -= 1
            queue[head] = message
        } else {
            queue.insert(message, at: 0)
        }
    }

    /// A connection closed; true when another should be opened for the messages still waiting.
    func connectionClosed() -> Bool {
        connections -= 1
        return shouldOpenConnection()
    }

    /// The receiver asked to slow down (421, 4.7.x) or could not be reached: nothing goes to it
    /// until `until`. Returns the messages that were waiting, to be parked until then.
    func suspend(until: Date, reason: String) -> [OutboundMessage] {
        if suspendedUntil == nil || suspendedUntil! < until { suspendedUntil = until }
        lastReply = reason
        return drain()
    }

    /// Ends a backoff now (the operator's "retry now"); true when a connection should be opened
    /// for the messages waiting.
    func resumeNow() -> Bool {
        guard let until = suspendedUntil, until > Date() else { return false }
        suspendedUntil = nil
        return shouldOpenConnection()
    }

    /// True (counting it) when a connection should be opened for the messages waiting.
    func needsConnection() -> Bool {
        shouldOpenConnection()
    }

    /// The operator paused (or resumed) this destination; pausing returns the waiting messages.
    func setPaused(_ paused: Bool) -> [OutboundMessage] {
        pausedByOperator = paused
        return paused ? drain() : []
    }

    /// Removes and returns every waiting message.
    func drain() -> [OutboundMessage] {
        let drained = Array(queue[head...])
        queue.removeAll()
        head = 0
        return drained
    }

    func update(rule: DestinationRule, route: MailRoute) {
        self.rule = rule
        self.route = route
        if rule.perMinute != limiters.values.first?.perMinute || rule.perHour != limiters.values.first?.perHour { limiters.removeAll() }
    }

    /// What the panel shows of this destination.
    func report() -> SenderNodeReport.Site {
        SenderNodeReport.Site(
            site: site, pool: pool, domains: [route.domain], rule: rule.name, waiting: waiting, inFlight: inFlight, connections: connections,
            suspendedUntil: (suspendedUntil ?? .distantPast) > Date() ? suspendedUntil : nil, paused: pausedByOperator,
            delivered: counters.delivered, deferred: counters.deferred, bounced: counters.bounced, failed: counters.failed, lastReply: lastReply)
    }
}
