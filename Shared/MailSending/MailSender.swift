import AMQP
import BounceParsing
import Contracts
import CustomerData
import DNS
import Foundation
import Logging
import MIME
import Mongo
import ServiceLifecycle
import ServiceSupport
import SMTP
import SwiftProtobuf
import Synchronization

/// mta-sender's work: takes rendered messages from the email queues, checks each against the
/// stop list, finds its destination (MX rollup per IP pool), and delivers it over SMTP within the
/// destination's rules — connections, messages per connection, rates per source IP, backoff —
/// signing it with its sending domain's DKIM key last. Every outcome becomes a `message.*` event;
/// a deferred message waits in the delay queues for its next attempt. A delivery is acknowledged
/// only once its outcome is confirmed by the broker, so several nodes can share the queues and a
/// node that dies loses nothing.
public final class MailSender: Service, Sendable {
    let configuration: MailSenderConfiguration
    let amqp: AMQPConnection
    let settings: MongoDatabase
    let stopList: StopList
    let resolver: MXResolver
    let settlements: Settlements
    let logger: Logger

    struct State {
        var sites: [String: DeliverySite] = [:]
        var rules: [DestinationRule] = []
        var pools: [String: IPPool] = [:]
        var signers: [String: DKIMSigner] = [:]
        var controls: [String: DeliveryControl] = [:]
        /// Campaigns paused or cancelled in the panel: their queued messages wait, or are dropped.
        var pausedCampaigns = Set<String>()
        var cancelledCampaigns = Set<String>()
        var consumers: [AMQPConsumer] = []
        var stopping = false
        var activeConnections = 0
        var unsignedWarnings = Set<String>()
    }

    let state = Mutex(State())
    private let spawns: AsyncStream<DeliverySite>
    let spawn: AsyncStream<DeliverySite>.Continuation
    let startedAt = Date()

    public init(configuration: MailSenderConfiguration, amqp: AMQPConnection, settings: MongoDatabase, logger: Logger) {
        self.configuration = configuration
        self.amqp = amqp
        self.settings = settings
        stopList = StopList(settings: settings)
        resolver = MXResolver(server: configuration.dnsServer)
        settlements = Settlements(amqp: amqp, logger: logger)
        self.logger = logger
        (spawns, spawn) = AsyncStream.makeStream()
    }

    public func run() async throws {
        try? await refresh()
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.settleLoop() }
                group.addTask { await self.refreshLoop() }
                for (queue, prefetch) in [("delivery.email.transactional", 200), ("delivery.email.bulk", configuration.prefetch),
                                          (BusTopology.emailRetryQueue, configuration.prefetch)] {
                    group.addTask { await self.consume(queue, prefetch: prefetch) }
                }
                for await site in spawns {
                    group.addTask { await self.connection(to: site) }
                }
            }
            await settlements.flush()
            try? await report()
        } onGracefulShutdown: {
            self.beginStopping()
        }
    }

    /// Stops taking deliveries; what waits on this node goes back to the broker at once, what is
    /// being sent is finished and settled.
    func beginStopping() {
        let (consumers, sites) = state.withLock { s -> ([AMQPConsumer], [DeliverySite]) in
            s.stopping = true
            return (s.consumers, Array(s.sites.values))
        }
        for consumer in consumers { consumer.cancel() }
        spawn.finish()
        Task {
            for site in sites {
                for message in await site.drain() { message.delivery.nack(requeue: true) }
            }
        }
    }

    var isStopping: Bool { state.withLock { $0.stopping } }

    // MARK: Taking deliveries

    private func consume(_ queue: String, prefetch: Int) async {
        while !isStopping {
            do {
                try await amqp.waitUntilConnected(timeout: .seconds(30))
                let consumer = try await amqp.consume(queue: queue, prefetch: UInt16(min(prefetch, 65_535)))
                state.withLock { $0.consumers.append(consumer) }
                if isStopping { consumer.cancel() }
                // Deliveries arrive a few at a time; they are sorted in batches of whatever has
                // arrived meanwhile, so that one stop-list query serves hundreds of them.
                let inbox = DeliveryInbox()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        defer { inbox.close() }
                        for try await batch in consumer.batches where !batch.isEmpty { inbox.put(batch) }
                    }
                    while let batch = await inbox.take(max: 2000) {
                        if isStopping {
                            for delivery in batch { delivery.nack(requeue: true) }
                            continue
                        }
                        await intake(batch)
                    }
                    try await group.waitForAll()
                }
            } catch {
                if isStopping { return }
                logger.warning("email queue consumer stopped; starting again", metadata: ["amqp.queue": "\(queue)", "error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Sorts a batch of deliveries: early returns from the delay queues wait again; purged,
    /// expired and stop-listed ones end here; the rest join their destination's queue.
    func intake(_ batch: [AMQPDelivery]) async {
        let now = Date()
        var messages: [OutboundMessage] = []
        for delivery in batch {
            guard let message = OutboundMessage(delivery) else {
                logger.error("a delivery that is not an EmailDelivery with a recipient; dead-lettered", metadata: ["amqp.routing_key": "\(delivery.routingKey)"])
                delivery.reject(requeue: false)
                continue
            }
            if message.hasExpired {
                expire(message, reason: "the sending's expiry passed before delivery")
                continue
            }
            messages.append(message)
        }
        guard !messages.isEmpty else { return }

        let blocked: [String: StopListEntry]
        do {
            blocked = try await stopList.blockingEmail(messages.map { ($0.email.recipient, $0.account) })
        } catch {
            // Without the stop list nothing is sent: the batch goes back and is tried again.
            logger.error("the stop list could not be read; deliveries returned to the queue", metadata: ["error": "\(error)"])
            for message in messages { message.delivery.nack(requeue: true) }
            try? await Task.sleep(for: .seconds(1))
            return
        }
        for message in messages {
            if let entry = blocked[message.email.recipient] {
                fail(message, reason: "suppressed", diagnostic: "on the stop list (\(entry.kind.rawValue) \(entry.value): \(entry.reason))")
                continue
            }
            await route(message, now: now)
        }
    }

    private func route(_ message: OutboundMessage, now: Date) async {
        let site: DeliverySite
        do {
            site = try await self.site(for: message)
        } catch let error as MailRouteError {
            if error.isPermanent {
                let reason = if case .noSuchDomain = error { "hostunknown" } else { "notaccept" }
                bounce(message, reply: SMTPReply?.none, host: "", reason: reason, diagnostic: error.description, hard: true)
            } else {
                defer_(message, rule: DestinationRule.standard, reply: error.description, host: "", now: now)
            }
            return
        } catch {
            defer_(message, rule: DestinationRule.standard, reply: "\(error)", host: "", now: now)
            return
        }
        let (control, paused, cancelled) = state.withLock { s in
            (s.controls[site.site], s.pausedCampaigns.contains(message.email.campaignID), s.cancelledCampaigns.contains(message.email.campaignID))
        }
        if cancelled, !message.email.campaignID.isEmpty {
            fail(message, reason: "cancelled", diagnostic: "the campaign was cancelled before this message was delivered")
            return
        }
        if paused, !message.email.campaignID.isEmpty {
            park(message, until: now.addingTimeInterval(30), site: site.site)
            return
        }
        if let purgedAt = control?.purgedAt, message.email.meta.occurredAt.date <= purgedAt {
            fail(message, reason: "purged", diagnostic: "purged by \(control!.updatedBy) from the queue of \(site.site)")
            return
        }
        let rule = retryRule(for: message, route: await site.route)
        if message.attempts > 0, now.timeIntervalSince(message.firstAttemptAt) > Double(rule.retry.maxAgeSeconds) {
            expire(message, reason: "deferred for longer than \(rule.retry.maxAgeSeconds) s")
            return
        }
        // Back early from a delay tier (its due time is later), unless the operator asked to retry now.
        if let notBefore = message.notBefore, Double(notBefore) / 1000 > now.timeIntervalSince1970 + 0.5 {
            let retryNow = control?.retryAt.map { Double(notBefore) / 1000 > $0.timeIntervalSince1970 && message.queuedAt < .now } ?? false
            if !retryNow {
                park(message, until: Date(timeIntervalSince1970: Double(notBefore) / 1000), site: site.site)
                return
            }
        }
        if let until = await site.holdUntil(now: now) {
            park(message, until: until, site: site.site)
            return
        }
        if await site.enqueue(message) { spawn.yield(site) }
    }

    /// The destination of a message: its MX site through its IP pool, made on first use.
    func site(for message: OutboundMessage) async throws -> DeliverySite {
        let route: MailRoute
        if let relay = configuration.relay {
            route = MailRoute(domain: relay.host, hosts: [.init(name: relay.host, preference: 0, addresses: [relay.host])], isImplicit: false)
        } else {
            route = try await resolver.route(for: message.domain)
        }
        let siteName = configuration.relay.map { "relay:\($0.host):\($0.port)" } ?? route.site
        let pool = message.email.ipPool
        let key = "\(siteName)|\(pool)"
        return state.withLock { s in
            if let site = s.sites[key] { return site }
            let rule = DestinationRule.applying(to: message.domain, hosts: route.hosts.map(\.name), among: s.rules)
            let site = DeliverySite(site: siteName, pool: pool, route: route, rule: rule, sources: s.pools[pool]?.addresses ?? [])
            s.sites[key] = site
            return site
        }
    }

    // MARK: Connections

    /// One connection to a site: tries its hosts (and their addresses) in preference order until
    /// one answers, then sends the site's messages until there are none, the rule's share per
    /// connection is sent, or the receiver asks to slow down.
    func connection(to site: DeliverySite) async {
        state.withLock { $0.activeConnections += 1 }
        defer { state.withLock { $0.activeConnections -= 1 } }
        let source = await site.takeSource()
        let route = await site.route
        let rule = await site.rule
        let pool = state.withLock { $0.pools[site.pool] }
        var failure: (any Error)?
        var attempted = 0
        candidates: for host in route.hosts {
            for address in host.addresses.prefix(2) {
                attempted += 1
                if attempted > 5 { break candidates }
                var client = SMTPClient(
                    host: host.name, address: address, port: configuration.relay?.port ?? configuration.smtpPort, localAddress: source,
                    heloName: pool?.heloName ?? configuration.heloName, tls: configuration.relay?.tls ?? rule.tls ?? configuration.tls,
                    credentials: configuration.relay?.credentials, trustedCertificates: configuration.trustedCertificates)
                client.timeouts.connect = .seconds(20)
                let sessionUsed = SessionUse()
                do {
                    try await client.session { session in
                        sessionUsed.transactions = 1
                        try await self.serve(site, session: session, host: host.name, source: source)
                    }
                    failure = nil
                    break candidates
                } catch {
                    failure = error
                    if sessionUsed.transactions > 0 {
                        // It answered; the messages' outcomes are settled. The rest wait for the next connection.
                        failure = nil
                        break candidates
                    }
                    logger.debug("host not usable; trying the next", metadata: ["mta.site": "\(site.site)", "mta.host": "\(host.name)", "error": "\(error)"])
                }
            }
        }
        if let failure, !isStopping {
            // No host could be reached or took a message: the destination waits, and its messages are deferred.
            let until = Date().addingTimeInterval(Double(min(max(rule.backoffSeconds, 30), 300)))
            let waiting = await site.suspend(until: until, reason: "\(failure)")
            for message in waiting {
                defer_(message, rule: retryRule(for: message, route: route), reply: "\(failure)", host: route.hosts.first?.name ?? "", now: Date(), site: site.site)
            }
            await site.count(deferred: waiting.count)
            logger.warning("destination unreachable; deferred", metadata: ["mta.site": "\(site.site)", "count": "\(waiting.count)", "error": "\(failure)"])
        }
        if await site.connectionClosed(), !isStopping { spawn.yield(site) }
    }

    private func serve(_ site: DeliverySite, session: SMTPSession, host: String, source: String?) async throws {
        // The message announced with the last one's end (PIPELINING), signed; it is sent next.
        var upcoming: (message: OutboundMessage, bytes: [UInt8])?
        do {
            while true {
                let current: (message: OutboundMessage, bytes: [UInt8])
                if let announced = upcoming {
                    current = announced
                    upcoming = nil
                } else {
                    switch await site.next(source: source, sent: session.transactions) {
                    case .close:
                        return
                    case .wait(let seconds):
                        if seconds > 10 {
                            // A rate limit that allows nothing for a while: the destination waits, and its
                            // messages wait in the delay queues rather than in this node (no reconnecting meanwhile).
                            let until = Date().addingTimeInterval(seconds)
                            for message in await site.suspend(until: until, reason: "the destination's rate limit or warm-up allows the next message at \(until)") {
                                park(message, until: until, site: site.site)
                            }
                            return
                        }
                        try await Task.sleep(for: .milliseconds(Int(seconds * 1000) + 5))
                        continue
                    case .send(let message):
                        current = (message, sign(message))
                    }
                }
                // The one after it, when it may go at once, is announced with this one's end.
                if session.capabilities.pipelining, case .send(let following) = await site.next(source: source, sent: session.transactions + 1) {
                    upcoming = (following, sign(following))
                }
                try await send(current.message, bytes: current.bytes, announcing: upcoming, on: session, site: site, host: host)
            }
        } catch {
            if let upcoming {
                // Announced but not sent: it waits for the next connection, or with the others while the destination backs off.
                await site.putBack(upcoming.message)
                if let until = await site.holdUntil() {
                    for message in await site.drain() { park(message, until: until, site: site.site) }
                }
            }
            throw error
        }
    }

    /// One attempt at one message on an open session; settles its outcome. Throws when the
    /// session cannot go on.
    private func send(_ message: OutboundMessage, bytes: [UInt8], announcing next: (message: OutboundMessage, bytes: [UInt8])?,
                      on session: SMTPSession, site: DeliverySite, host: String) async throws {
        let rule = await site.rule
        let retry = retryRule(for: message, route: await site.route)
        do {
            let transaction = try await session.send(message.envelope, message: bytes, announcing: next.map { ($0.message.envelope, $0.bytes) })
            await site.finished(delivered: true, reply: transaction.reply.description)
            settle(message, event: event(message, .delivered, host: host, reply: transaction.reply.description))
        } catch let error as SMTPError {
            switch error {
            case .rejected(let stage, let reply):
                if reply.isPermanent {
                    await site.finished(bounced: true, reply: reply.description)
                    let bounce = Bounce.fromReply(recipient: message.email.recipient, code: reply.code, status: reply.enhancedStatus, text: reply.text)
                    self.bounce(message, reply: reply, host: host, reason: bounce.reason, diagnostic: "\(stage): \(reply)", hard: bounce.kind == .hard)
                    return
                }
                await site.finished(deferred: true, reply: reply.description)
                defer_(message, rule: retry, reply: "\(stage): \(reply)", host: host, now: Date(), site: site.site)
                if reply.code == 421 || reply.enhancedStatus?.hasPrefix("4.7.") == true {
                    // The receiver asks to slow down: nothing goes there for the rule's backoff.
                    let until = Date().addingTimeInterval(Double(rule.backoffSeconds))
                    for waiting in await site.suspend(until: until, reason: reply.description) { park(waiting, until: until, site: site.site) }
                    logger.notice("destination backs off", metadata: ["mta.site": "\(site.site)", "reply": "\(reply)", "until": "\(until)"])
                    throw error
                }
            case .unsendable(let reason):
                await site.finished(bounced: true, reply: reason)
                self.bounce(message, reply: SMTPReply?.none, host: host, reason: reason.contains("SMTPUTF8") ? "notaccept" : "mesgtoobig", diagnostic: reason, hard: false)
            default:
                if session.transactions > 1, case .connectionClosed(let stage) = error, stage.hasPrefix("MAIL") {
                    // A reused connection the server had already dropped: not this message's fault.
                    await site.putBack(message)
                    throw error
                }
                await site.finished(deferred: true, reply: error.description)
                defer_(message, rule: retry, reply: error.description, host: host, now: Date(), site: site.site)
                throw error
            }
        }
    }

    /// The rule whose retry schedule a message keeps: its own domain's (domains sharing MX hosts share
    /// connections and rates through the site's rule, but each keeps its own retries and maximum age).
    func retryRule(for message: OutboundMessage, route: MailRoute) -> DestinationRule {
        let rules = state.withLock { $0.rules }
        return DestinationRule.applying(to: message.domain, hosts: route.hosts.map(\.name), among: rules)
    }

    /// The message signed by its sending domain's key; as it is when the domain has none.
    func sign(_ message: OutboundMessage) -> [UInt8] {
        let bytes = [UInt8](message.email.mime)
        let sender = message.email.senderID.lowercased()
        guard let signer = state.withLock({ $0.signers[sender] }) else {
            let warn = state.withLock { $0.unsignedWarnings.insert(sender).inserted }
            if warn { logger.warning("no DKIM key for this sending domain; its messages go unsigned", metadata: ["mta.sender": "\(sender)"]) }
            return bytes
        }
        do {
            return try signer.sign(bytes)
        } catch {
            logger.error("DKIM signing failed; sent unsigned", metadata: ["mta.sender": "\(sender)", "error": "\(error)"])
            return bytes
        }
    }
}

/// Whether a connection got as far as an open session (then its failures are the messages', not the host's).
private final class SessionUse: @unchecked Sendable {
    // @unchecked Sendable: written and read by the one task that runs the connection.
    var transactions = 0
}

/// Deliveries received and not yet sorted: the consumer puts them in as they arrive, the intake
/// takes all that are there at once.
final class DeliveryInbox: Sendable {
    private let waiting = Mutex<(deliveries: [AMQPDelivery], closed: Bool)>(([], false))
    private let signal: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (signal, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func put(_ deliveries: [AMQPDelivery]) {
        waiting.withLock { $0.deliveries += deliveries }
        continuation.yield()
    }

    func close() {
        waiting.withLock { $0.closed = true }
        continuation.finish()
    }

    /// Up to `max` deliveries, waiting for the first; nil once closed and empty.
    func take(max: Int) async -> [AMQPDelivery]? {
        var signals = signal.makeAsyncIterator()
        while true {
            let (batch, closed) = waiting.withLock { w -> ([AMQPDelivery], Bool) in
                let n = min(max, w.deliveries.count)
                let batch = Array(w.deliveries.prefix(n))
                w.deliveries.removeFirst(n)
                return (batch, w.closed)
            }
            if !batch.isEmpty { return batch }
            if closed { return nil }
            guard await signals.next() != nil else {
                return waiting.withLock { w in
                    defer { w.deliveries.removeAll() }
                    return w.deliveries.isEmpty ? nil : w.deliveries
                }
            }
        }
    }
}
