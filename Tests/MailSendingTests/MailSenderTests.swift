import AMQP
import Contracts
import CustomerData
import Foundation
import HeraldTesting
import MailSending
import MIME
import ServiceSupport
import Testing

/// mta-sender's delivery pipeline against real peers: RabbitMQ, dnsmasq for MX records,
/// aiosmtpd as the receiving MX, the settings store, and dkimpy to verify signatures.
@Suite("mta-sender delivers", .serialized)
struct MailSenderTests {
    @Test("messages to two domains on one MX host: delivered, DKIM-signed, one outcome each; a stop-listed one is not sent")
    func delivers() async throws {
        let harness = try await SenderHarness(mx: [("shop-customers.test", "mx.mail.test"), ("other.test", "mx.mail.test")])
        let sink = try await AIOSMTPServer()
        let pem = try await DKIMVerifier.opensslKey(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
        let domain = SendingDomain(domain: "shop.test", accountId: "acc1", selector: "h1", algorithm: .rsa2048, privateKey: pem, returnPathDomain: "bounce.shop.test")
        try await harness.save(domain, in: SendingDomain.collectionName)
        try await harness.save(StopListEntry(accountId: "acc1", kind: .address, value: "stopped@other.test", reason: "complaint", source: .manual, by: "test"),
                               in: StopListEntry.collectionName)
        try await harness.startNode(harness.configuration(port: sink.port))
        let deliveries = ["anna@shop-customers.test", "boris@other.test", "stopped@other.test"].map { SenderHarness.delivery(to: $0) }
        try await harness.publish(deliveries)

        let events = try await harness.outcomes(3)
        let byRecipient = Dictionary(uniqueKeysWithValues: events.map { ($0.recipient, $0) })
        #expect(byRecipient["anna@shop-customers.test"]?.kind == .delivered)
        #expect(byRecipient["boris@other.test"]?.kind == .delivered)
        #expect(byRecipient["anna@shop-customers.test"]?.reply.hasPrefix("250") == true)
        #expect(byRecipient["anna@shop-customers.test"]?.remoteHost == "mx.mail.test")
        #expect(byRecipient["anna@shop-customers.test"]?.profile.profileID == "p-anna@shop-customers.test")
        #expect(byRecipient["stopped@other.test"]?.kind == .failed)
        #expect(byRecipient["stopped@other.test"]?.bounce.reason == "suppressed")

        let received = try await sink.waitForMessages(2)
        #expect(Set(received.flatMap(\.recipients)) == ["anna@shop-customers.test", "boris@other.test"])
        #expect(received.allSatisfy { $0.mailFrom.hasPrefix("bounces+") && $0.mailFrom.hasSuffix("@bounce.shop.test") })
        for message in received {
            #expect(message.text.hasPrefix("DKIM-Signature:"))
            let signer = try domain.signer()
            #expect(try await DKIMVerifier.verify(message.bytes, domain: "shop.test", selector: "h1", record: signer.dnsRecord) == "pass")
        }
        await harness.finish()
    }

    @Test("4xx is retried on schedule and then delivered; 5xx bounces with its reason; 4xx past the maximum age expires")
    func retriesAndBounces() async throws {
        // Two domains on one MX host, each with its own rule: quick retries kept for two minutes, and
        // quick retries given up after 3 seconds (however busy the machine, "later" never expires).
        let harness = try await SenderHarness(mx: [("example.test", "mx.example.test"), ("short.test", "mx.example.test")])
        let sink = try await AIOSMTPServer(rules: [
            .init(pattern: "later@*", reply: "451 4.3.0 Try again later", times: 1),
            .init(pattern: "gone@*", reply: "550 5.1.1 <gone@example.test>: user unknown"),
            .init(pattern: "never@*", reply: "452 4.2.2 Mailbox full"),
        ])
        try await harness.save(DestinationRule(name: "Quick retries", match: "example.test",
                                               retry: RetrySchedule(firstDelaySeconds: 1, factor: 1, maxDelaySeconds: 1, maxAgeSeconds: 120, jitter: 0)),
                               in: DestinationRule.collectionName)
        try await harness.save(DestinationRule(name: "Short-lived", match: "short.test",
                                               retry: RetrySchedule(firstDelaySeconds: 1, factor: 1, maxDelaySeconds: 1, maxAgeSeconds: 3, jitter: 0)),
                               in: DestinationRule.collectionName)
        try await harness.startNode(harness.configuration(port: sink.port))
        try await harness.publish(["later@example.test", "gone@example.test", "never@short.test"].map { SenderHarness.delivery(to: $0) })

        var events: [Herald_Events_V1_MessageEvent] = []
        // later: deferred, delivered. gone: bounced. never: deferred until 3 s have passed, then expired.
        while !(events.contains { $0.recipient == "never@short.test" && $0.kind == .expired }) || !(events.contains { $0.recipient == "later@example.test" && $0.kind == .delivered }) {
            events += try await harness.outcomes(1, timeout: .seconds(30))
        }
        let later = events.filter { $0.recipient == "later@example.test" }
        #expect(later.map(\.kind) == [.deferred, .delivered])
        #expect(later.first?.reply.contains("451 4.3.0") == true)
        #expect(later.first?.hasNextAttemptAt == true)
        #expect(later.last?.attempt == 2)
        let gone = events.filter { $0.recipient == "gone@example.test" }
        #expect(gone.map(\.kind) == [.bounced])
        #expect(gone.first?.bounce.hard == true && gone.first?.bounce.reason == "userunknown" && gone.first?.bounce.enhancedStatus == "5.1.1")
        #expect(gone.first?.bounce.smtpCode == 550)
        let never = events.filter { $0.recipient == "never@short.test" }
        #expect(never.last?.kind == .expired)
        #expect(never.dropLast().allSatisfy { $0.kind == .deferred } && never.count >= 2)
        #expect(!never.contains { $0.kind == .bounced }, "an expired deferral is not a bounce")
        #expect(sink.messages().map(\.recipients) == [["later@example.test"]])
        await harness.finish()
    }

    @Test("a destination's connection limit and messages per connection hold, counted at the receiver")
    func connectionLimits() async throws {
        let harness = try await SenderHarness(mx: [("limited.test", "mx.limited.test")])
        let sink = try await AIOSMTPServer()
        try await harness.save(DestinationRule(name: "Limited", match: "limited.test", maxConnections: 2, messagesPerConnection: 5), in: DestinationRule.collectionName)
        try await harness.startNode(harness.configuration(port: sink.port))
        try await harness.publish((0..<30).map { SenderHarness.delivery(to: "user\($0)@limited.test") })
        let events = try await harness.outcomes(30)
        #expect(events.allSatisfy { $0.kind == .delivered })
        let received = try await sink.waitForMessages(30)
        #expect(sink.peakConnections() <= 2, "at most 2 connections at once")
        let perConnection = Dictionary(grouping: received, by: \.peerPort).mapValues(\.count)
        #expect(perConnection.values.allSatisfy { $0 <= 5 }, "at most 5 messages per connection: \(perConnection)")
        #expect(sink.connections() >= 6)
        await harness.finish()
    }

    @Test("a provider warm-up: the source IP sends its day's allowance, and the rest waits for the next day in the delay queues")
    func providerWarmUp() async throws {
        let harness = try await SenderHarness(mx: [("warm.test", "mx.warm.test")])
        let sink = try await AIOSMTPServer()
        try await harness.save(DestinationRule(name: "Warm", match: "warm.test", maxConnections: 1,
                                               warmUp: ProviderWarmUp(startPerDay: 3, factor: 2, targetPerDay: 1000)),
                               in: DestinationRule.collectionName)
        try await harness.startNode(harness.configuration(port: sink.port))
        try await harness.publish((0..<5).map { SenderHarness.delivery(to: "user\($0)@warm.test") })
        let events = try await harness.outcomes(3)
        #expect(events.allSatisfy { $0.kind == .delivered })
        // The other two wait for tomorrow (UTC) in the longest delay tier, without an attempt.
        let tier = BusTopology.emailDelayQueue(BusTopology.emailDelayTiers.last!)
        #expect(try await harness.waitForCount(of: tier, 2) == 2)
        #expect(sink.messages().count == 3)
        #expect(harness.pendingOutcomes.isEmpty, "no outcome for the waiting messages")
        await harness.finish()
    }

    @Test("retry now: one destination's deferred messages leave the delay queues at once; another's keep waiting")
    func retryNow() async throws {
        let harness = try await SenderHarness(mx: [("slow.test", "mx.slow.test"), ("other.test", "mx.other.test")])
        let sink = try await AIOSMTPServer(rules: [.init(pattern: "*@slow.test", reply: "451 4.3.0 Try again later", times: 1),
                                                   .init(pattern: "*@other.test", reply: "451 4.3.0 Try again later", times: 1)])
        // Deferred messages would wait 50 minutes (in the 30-minute tier first).
        try await harness.save(DestinationRule(name: "All", match: "*", retry: RetrySchedule(firstDelaySeconds: 3000, factor: 1, maxDelaySeconds: 3000, jitter: 0)),
                               in: DestinationRule.collectionName)
        try await harness.startNode(harness.configuration(port: sink.port))
        try await harness.publish(["a@slow.test", "b@slow.test", "c@other.test"].map { SenderHarness.delivery(to: $0) })
        let deferred = try await harness.outcomes(3)
        #expect(deferred.allSatisfy { $0.kind == .deferred })
        let tier = BusTopology.emailDelayQueue(1800)
        #expect(try await harness.waitForCount(of: tier, 3) == 3)

        let released = try await DelayedEmailRelease.release(site: "mx.slow.test", amqp: harness.amqp)
        #expect(released == 2)
        let delivered = try await harness.outcomes(2)
        #expect(delivered.allSatisfy { $0.kind == .delivered } && Set(delivered.map(\.recipient)) == ["a@slow.test", "b@slow.test"])
        #expect(try await harness.amqp.messageCount(queue: tier) == 1, "the other destination's message is back in its tier")
        await harness.finish()
    }

    @Test("a 421 makes the destination back off: waiting messages are held, not attempted, and go later")
    func backoff() async throws {
        let harness = try await SenderHarness(mx: [("busy.test", "mx.busy.test")])
        let sink = try await AIOSMTPServer(rules: [.init(pattern: "first@*", reply: "421 4.7.0 Too many messages, slow down", times: 1)])
        try await harness.save(DestinationRule(name: "Busy", match: "busy.test", maxConnections: 1, backoffSeconds: 2,
                                               retry: RetrySchedule(firstDelaySeconds: 1, factor: 1, maxDelaySeconds: 1, jitter: 0)),
                               in: DestinationRule.collectionName)
        try await harness.startNode(harness.configuration(port: sink.port))
        try await harness.publish(["first@busy.test", "second@busy.test", "third@busy.test"].map { SenderHarness.delivery(to: $0) })
        var events: [Herald_Events_V1_MessageEvent] = []
        while events.filter({ $0.kind == .delivered }).count < 3 { events += try await harness.outcomes(1, timeout: .seconds(30)) }
        #expect(events.filter { $0.kind == .deferred }.map(\.recipient) == ["first@busy.test"], "only the attempted message was deferred")
        #expect(sink.refusals().count == 1)
        let received = sink.messages()
        #expect(received.count == 3)
        let refusedAt = try #require(events.first { $0.kind == .deferred }?.meta.occurredAt.date)
        #expect(received.allSatisfy { $0.time >= refusedAt.timeIntervalSince1970 + 1.5 }, "nothing went during the backoff")
        await harness.finish()
    }

    @Test("an unreachable MX defers; an unknown domain bounces as hostunknown")
    func unreachable() async throws {
        let harness = try await SenderHarness(mx: [("down.test", "mx.down.test")])
        try await harness.save(DestinationRule(name: "Down", match: "down.test", backoffSeconds: 30), in: DestinationRule.collectionName)
        try await harness.startNode(harness.configuration(port: FreePort.next()))
        try await harness.publish(["a@down.test", "b@nowhere.test"].map { SenderHarness.delivery(to: $0) })
        let events = Dictionary(uniqueKeysWithValues: try await harness.outcomes(2).map { ($0.recipient, $0) })
        #expect(events["a@down.test"]?.kind == .deferred)
        #expect(events["a@down.test"]?.reply.contains("could not connect") == true)
        #expect(events["b@nowhere.test"]?.kind == .bounced)
        #expect(events["b@nowhere.test"]?.bounce.reason == "hostunknown")
        await harness.finish()
    }
}

@Suite("Delivery rules")
struct DestinationRuleTests {
    @Test func theMostSpecificRuleApplies() {
        let rules = [
            DestinationRule(name: "All", match: "*", maxConnections: 5),
            DestinationRule(name: "Google hosts", match: "google.com", maxConnections: 20),
            DestinationRule(name: "Gmail", match: "gmail.com", maxConnections: 50),
        ]
        #expect(DestinationRule.applying(to: "gmail.com", hosts: ["gmail-smtp-in.l.google.com"], among: rules).name == "Gmail")
        #expect(DestinationRule.applying(to: "company.test", hosts: ["aspmx.l.google.com"], among: rules).name == "Google hosts")
        #expect(DestinationRule.applying(to: "mail.ru", hosts: ["mxs.mail.ru"], among: rules).name == "All")
        #expect(DestinationRule.applying(to: "mail.ru", hosts: ["mxs.mail.ru"], among: []).name == "Default")
    }

    @Test func retryDelaysGrowWithJitterWithinBounds() {
        let schedule = RetrySchedule(firstDelaySeconds: 60, factor: 2, maxDelaySeconds: 600, maxAgeSeconds: 86_400, jitter: 0.2)
        #expect(schedule.delay(afterAttempt: 1, random: 0) == 60)
        #expect(schedule.delay(afterAttempt: 2, random: 0) == 120)
        #expect(schedule.delay(afterAttempt: 10, random: 0) == 600)
        #expect(schedule.delay(afterAttempt: 1, random: 1) == 72)
        #expect(schedule.delay(afterAttempt: 1, random: -1) == 48)
    }

    @Test func aWarmUpGrowsDailyUntilItsTarget() {
        let start = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-19, some time of day
        let warmUp = ProviderWarmUp(startPerDay: 50, factor: 2, targetPerDay: 1000, startedOn: start)
        let day: (Int) -> Date = { start.addingTimeInterval(Double($0) * 86_400) }
        #expect(warmUp.allowance(on: start) == 50)
        #expect(warmUp.allowance(on: day(1)) == 100)
        #expect(warmUp.allowance(on: day(4)) == 800)
        #expect(warmUp.allowance(on: day(5)) == nil, "1,600 is past the target: the warm-up is over")
        #expect(warmUp.allowance(on: day(-3)) == 50, "before the start, the first day's allowance")
        // The day turns at UTC midnight, not 24 hours after the start's time of day.
        let midnight = Date(timeIntervalSince1970: (start.timeIntervalSince1970 / 86_400).rounded(.up) * 86_400)
        #expect(warmUp.allowance(on: midnight.addingTimeInterval(-1)) == 50)
        #expect(warmUp.allowance(on: midnight) == 100)
        var bad = warmUp
        bad.factor = 1
        bad.targetPerDay = 10
        #expect(DestinationRule(name: "Bad", match: "gmail.com", warmUp: bad).problems.map(\.field) == ["warmUp.factor", "warmUp.targetPerDay"])
    }

    @Test func problemsAreNamedByField() {
        var rule = DestinationRule(name: "Bad", match: "not a domain", maxConnections: 0)
        rule.retry.factor = 0.5
        #expect(rule.problems.map(\.field) == ["match", "maxConnections", "retry.factor"])
    }
}
