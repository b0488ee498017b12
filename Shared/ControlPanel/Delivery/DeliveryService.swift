import AMQP
import BSON
import Campaigns
import CustomerData
import Foundation
import MailSending
import MIME
import Mongo
import Security
import ServiceSupport

/// The sender's settings and state in the panel and the API: queues per destination across the
/// sender nodes (and what waits in the broker), operators' pause/resume/purge/retry, destination
/// rules, sending domains with their DKIM keys, and IP pools. Changes are audited.
public struct DeliveryService: Sendable {
    public let rules: MongoCollection<DestinationRule>
    public let pools: MongoCollection<IPPool>
    public let domains: MongoCollection<SendingDomain>
    public let controls: MongoCollection<DeliveryControl>
    public let nodes: MongoCollection<SenderNodeReport>
    public let limits: MongoCollection<AccountLimits>
    let amqp: AMQPConnection?
    let audit: AuditLog

    public init(settings: MongoDatabase, amqp: AMQPConnection?, audit: AuditLog) {
        rules = settings.collection(DestinationRule.collectionName, of: DestinationRule.self)
        pools = settings.collection(IPPool.collectionName, of: IPPool.self)
        domains = settings.collection(SendingDomain.collectionName, of: SendingDomain.self)
        controls = settings.collection(DeliveryControl.collectionName, of: DeliveryControl.self)
        nodes = settings.collection(SenderNodeReport.collectionName, of: SenderNodeReport.self)
        limits = settings.collection(AccountLimits.collectionName, of: AccountLimits.self)
        self.amqp = amqp
        self.audit = audit
    }

    // MARK: Queues

    /// One destination across the nodes that work on it.
    public struct SiteView: Encodable, Sendable {
        public var site: String
        public var pool: String
        public var domains: [String]
        public var rule: String
        public var waiting = 0, inFlight = 0, connections = 0, delivered = 0, deferred = 0, bounced = 0, failed = 0
        public var nodes: [String] = []
        public var paused = false
        public var suspendedUntil: Date?
        public var lastReply = ""
    }

    public struct Queues: Encodable, Sendable {
        /// Messages in the broker: not yet taken by a node (bulk, transactional) and deferred (retry and delay queues).
        public var bulk: Int
        public var transactional: Int
        public var deferred: Int
        public var nodes: [String]
        public var sites: [SiteView]
    }

    public func queues(for identity: Identity) async throws -> Queues {
        try identity.require(.channels, .view)
        let fresh = try await nodes.find().collect().filter { $0.updatedAt > Date().addingTimeInterval(-60) }
        let paused = Dictionary(try await controls.find().collect().map { ($0._id, $0.paused) }, uniquingKeysWith: { a, _ in a })
        var sites: [String: SiteView] = [:]
        for node in fresh {
            for s in node.sites {
                var view = sites[s.site + "|" + s.pool] ?? SiteView(site: s.site, pool: s.pool, domains: [], rule: s.rule)
                view.domains = Array(Set(view.domains + s.domains)).sorted()
                view.waiting += s.waiting
                view.inFlight += s.inFlight
                view.connections += s.connections
                view.delivered += s.delivered
                view.deferred += s.deferred
                view.bounced += s.bounced
                view.failed += s.failed
                view.nodes.append(node._id)
                view.paused = paused[s.site] ?? s.paused
                if let until = s.suspendedUntil { view.suspendedUntil = max(view.suspendedUntil ?? until, until) }
                if !s.lastReply.isEmpty { view.lastReply = s.lastReply }
                sites[s.site + "|" + s.pool] = view
            }
        }
        // Paused sites no node reports any more stay visible, so they can be resumed.
        for (site, isPaused) in paused where isPaused && !sites.values.contains(where: { $0.site == site }) {
            sites[site + "|"] = SiteView(site: site, pool: "", domains: [], rule: "", paused: true)
        }
        var bulk = 0, transactional = 0, deferred = 0
        if let amqp {
            bulk = (try? await amqp.messageCount(queue: "delivery.email.bulk")) ?? 0
            transactional = (try? await amqp.messageCount(queue: "delivery.email.transactional")) ?? 0
            deferred = (try? await amqp.messageCount(queue: BusTopology.emailRetryQueue)) ?? 0
            for tier in BusTopology.emailDelayTiers { deferred += (try? await amqp.messageCount(queue: BusTopology.emailDelayQueue(tier))) ?? 0 }
        }
        return Queues(bulk: bulk, transactional: transactional, deferred: deferred, nodes: fresh.map(\._id).sorted(),
                      sites: sites.values.sorted { ($0.waiting + $0.inFlight, $0.site) > ($1.waiting + $1.inFlight, $1.site) })
    }

    public enum SiteAction: String, Sendable, CaseIterable { case pause, resume, purge, retry }

    /// An operator's instruction for a destination, taken up by every node within seconds.
    public func control(_ site: String, _ action: SiteAction, by identity: Identity) async throws {
        try identity.require(.channels, .edit)
        let site = site.trimmingCharacters(in: .whitespaces).lowercased()
        guard !site.isEmpty, site.count <= 500 else { throw InvalidInput("site", "campaign_invalid", "name the destination (its MX hosts, as the queue shows them)") }
        var control = try await controls.findOne(["_id": .string(site)]) ?? DeliveryControl(site: site, updatedBy: identity.user.login)
        switch action {
        case .pause: control.paused = true
        case .resume: control.paused = false
        case .purge: control.purgedAt = Date()
        case .retry: control.retryAt = Date()
        }
        control.updatedAt = Date()
        control.updatedBy = identity.user.login
        _ = try await controls.replaceOne(filter: ["_id": .string(site)], replacement: control, upsert: true)
        var changes: [AuditEntry.Change] = []
        if action == .retry, let amqp {
            // Its deferred messages leave the delay queues now; the nodes end its backoff when they read the control.
            let released = try await DelayedEmailRelease.release(site: site, amqp: amqp)
            changes.append(.init(field: "released", before: nil, after: String(released)))
        }
        try await audit.record(identity.actor, "delivery.\(action.rawValue)", kind: "destination", id: site, name: site, changes: changes)
    }

    // MARK: Rules

    public func ruleList(for identity: Identity) async throws -> [DestinationRule] {
        try identity.require(.channels, .view)
        return try await rules.find([:], options: FindOptions(sort: ["match": 1])).collect()
    }

    /// Saves a rule (new when its id is unknown); problems are reported by field.
    public func save(_ rule: DestinationRule, by identity: Identity) async throws -> DestinationRule {
        try identity.require(.channels, .edit)
        var rule = rule
        rule.match = rule.match.trimmingCharacters(in: .whitespaces).lowercased()
        rule.name = rule.name.trimmingCharacters(in: .whitespaces)
        if rule.name.isEmpty { rule.name = rule.match }
        if let problem = rule.problems.first { throw InvalidInput(problem.field, "campaign_invalid", problem.message) }
        if let other = try await rules.findOne(["match": .string(rule.match)]), other._id != rule._id {
            throw InvalidInput("match", "campaign_invalid", "the rule '\(other.name)' already applies to \(rule.match)")
        }
        rule.updatedAt = Date()
        let before = try await rules.findOne(["_id": .string(rule._id)])
        _ = try await rules.replaceOne(filter: ["_id": .string(rule._id)], replacement: rule, upsert: true)
        try await audit.record(identity.actor, before == nil ? "delivery_rule.create" : "delivery_rule.update", kind: "delivery_rule", id: rule._id, name: rule.name,
                               changes: [.init(field: "match", before: before?.match, after: rule.match),
                                         .init(field: "maxConnections", before: before.map { String($0.maxConnections) }, after: String(rule.maxConnections)),
                                         .init(field: "warmUp", before: before?.warmUp?.summary, after: rule.warmUp?.summary)])
        return rule
    }

    public func deleteRule(_ id: String, by identity: Identity) async throws {
        try identity.require(.channels, .edit)
        guard let rule = try await rules.findOne(["_id": .string(id)]) else { throw ObjectNotFound("delivery_rule", id) }
        _ = try await rules.deleteOne(["_id": .string(id)])
        try await audit.record(identity.actor, "delivery_rule.delete", kind: "delivery_rule", id: id, name: rule.name)
    }

    // MARK: Sending domains

    public func domainList(for identity: Identity) async throws -> [SendingDomain] {
        try identity.require(.channels, .view)
        return try await domains.find(["accountId": .string(identity.account._id)], options: FindOptions(sort: ["_id": 1])).collect()
    }

    /// Adds a sending domain with a new DKIM key; the answer's DNS record goes at `<selector>._domainkey.<domain>`.
    public func addDomain(_ name: String, selector: String, algorithm: SendingDomain.Algorithm, returnPathDomain: String?, by identity: Identity) async throws -> SendingDomain {
        try identity.require(.channels, .edit)
        let domain = name.trimmingCharacters(in: .whitespaces).lowercased()
        guard case .success = StopListEntry.normalize(domain, as: .domain) else { throw InvalidInput("domain", "campaign_invalid", "'\(name)' is not a mail domain (shop.example)") }
        let selector = selector.trimmingCharacters(in: .whitespaces).lowercased()
        guard !selector.isEmpty, selector.count <= 63, selector.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
            throw InvalidInput("selector", "campaign_invalid", "a selector is letters, digits and dashes (herald1)")
        }
        if try await domains.findOne(["_id": .string(domain)]) != nil { throw InvalidInput("domain", "name_taken", domain) }
        let returnPath = (returnPathDomain ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        let record = SendingDomain(domain: domain, accountId: identity.account._id, selector: selector, algorithm: algorithm,
                                   privateKey: try DKIMSigner.generateKey(ed25519: algorithm == .ed25519), returnPathDomain: returnPath.isEmpty ? "bounces.\(domain)" : returnPath)
        try await domains.insertOne(record)
        try await audit.record(identity.actor, "sending_domain.create", kind: "sending_domain", id: domain, name: domain,
                               changes: [.init(field: "selector", before: nil, after: selector), .init(field: "algorithm", before: nil, after: algorithm.rawValue)])
        return record
    }

    public func deleteDomain(_ name: String, by identity: Identity) async throws {
        try identity.require(.channels, .edit)
        guard try await domains.findOne(["_id": .string(name), "accountId": .string(identity.account._id)]) != nil else { throw ObjectNotFound("sending_domain", name) }
        _ = try await domains.deleteOne(["_id": .string(name)])
        try await audit.record(identity.actor, "sending_domain.delete", kind: "sending_domain", id: name, name: name)
    }

    // MARK: Account limits

    public func accountLimits(for identity: Identity) async throws -> AccountLimits {
        try identity.require(.channels, .view)
        return try await limits.findOne(["_id": .string(identity.account._id)]) ?? AccountLimits(accountId: identity.account._id)
    }

    /// What an operator sets of the account's limits; the ramp-up's progress is kept when its
    /// settings stay, and starts over (at `startPerDay`, today) when they change.
    public struct LimitsChange: Codable, Sendable {
        public var perHour: Int?
        public var perDay: Int?
        public var rampUp: RampUpSettings?
        /// The IP pool for campaigns that name none (the default route when empty).
        public var ipPool: String?
        public init(perHour: Int?, perDay: Int?, rampUp: RampUpSettings?, ipPool: String? = nil) {
            self.perHour = perHour
            self.perDay = perDay
            self.rampUp = rampUp
            self.ipPool = ipPool
        }
    }

    public struct RampUpSettings: Codable, Sendable, Equatable {
        public var startPerDay: Int
        public var factor: Double?
        public var maxPerDay: Int?
        public var bounceThreshold: Double?
        public var complaintThreshold: Double?
        public init(startPerDay: Int, factor: Double?, maxPerDay: Int?, bounceThreshold: Double?, complaintThreshold: Double?) {
            self.startPerDay = startPerDay
            self.factor = factor
            self.maxPerDay = maxPerDay
            self.bounceThreshold = bounceThreshold
            self.complaintThreshold = complaintThreshold
        }
    }

    public func saveLimits(_ change: LimitsChange, by identity: Identity) async throws -> AccountLimits {
        try identity.require(.channels, .edit)
        let before = try await accountLimits(for: identity)
        var after = before
        after.perHour = change.perHour
        after.perDay = change.perDay
        let pool = (change.ipPool ?? "").trimmingCharacters(in: .whitespaces)
        if !pool.isEmpty, try await pools.findOne(["_id": .string(pool)]) == nil {
            throw InvalidInput("ipPool", "campaign_invalid", "there is no IP pool '\(pool)' (Settings → Delivery → IP pools)")
        }
        after.ipPool = pool.isEmpty ? nil : pool
        if let settings = change.rampUp {
            var fresh = RampUp(startPerDay: settings.startPerDay, factor: settings.factor ?? 1.5, maxPerDay: settings.maxPerDay,
                               bounceThreshold: settings.bounceThreshold ?? 0.05, complaintThreshold: settings.complaintThreshold ?? 0.001, day: RampUp.dayString(Date()))
            if let old = before.rampUp, old.startPerDay == fresh.startPerDay, old.factor == fresh.factor, old.maxPerDay == fresh.maxPerDay,
               old.bounceThreshold == fresh.bounceThreshold, old.complaintThreshold == fresh.complaintThreshold {
                fresh = old
            }
            after.rampUp = fresh
        } else {
            after.rampUp = nil
        }
        if let problem = after.problems.first { throw InvalidInput(problem.field, "campaign_invalid", problem.message) }
        after.updatedAt = Date()
        _ = try await limits.replaceOne(filter: ["_id": .string(after._id)], replacement: after, upsert: true)
        try await audit.record(identity.actor, "sending_limits.update", kind: "sending_limits", id: after._id, name: identity.account.name, changes: [
            .init(field: "perHour", before: before.perHour.map(String.init), after: after.perHour.map(String.init)),
            .init(field: "perDay", before: before.perDay.map(String.init), after: after.perDay.map(String.init)),
            .init(field: "ipPool", before: before.ipPool, after: after.ipPool),
            .init(field: "rampUp", before: before.rampUp.map { "\($0.startPerDay)×\($0.factor)" }, after: after.rampUp.map { "\($0.startPerDay)×\($0.factor)" }),
        ].filter { $0.before != $0.after })
        return after
    }

    // MARK: IP pools

    public func poolList(for identity: Identity) async throws -> [IPPool] {
        try identity.require(.channels, .view)
        return try await pools.find([:], options: FindOptions(sort: ["_id": 1])).collect()
    }

    public func savePool(_ name: String, addresses: [String], heloName: String?, by identity: Identity) async throws -> IPPool {
        try identity.require(.channels, .edit)
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 60 else { throw InvalidInput("name", "name_required") }
        let list = addresses.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !list.isEmpty else { throw InvalidInput("addresses", "campaign_invalid", "give the pool's source IP addresses") }
        for address in list where !(Self.isIPv4(address) || address.contains(":")) {
            throw InvalidInput("addresses", "campaign_invalid", "'\(address)' is not an IP address")
        }
        let helo = heloName?.trimmingCharacters(in: .whitespaces)
        let pool = IPPool(name: name, addresses: list, heloName: (helo?.isEmpty ?? true) ? nil : helo)
        _ = try await pools.replaceOne(filter: ["_id": .string(name)], replacement: pool, upsert: true)
        try await audit.record(identity.actor, "ip_pool.save", kind: "ip_pool", id: name, name: name,
                               changes: [.init(field: "addresses", before: nil, after: list.joined(separator: ", "))])
        return pool
    }

    public func deletePool(_ name: String, by identity: Identity) async throws {
        try identity.require(.channels, .edit)
        guard try await pools.deleteOne(["_id": .string(name)]) > 0 else { throw ObjectNotFound("ip_pool", name) }
        try await audit.record(identity.actor, "ip_pool.delete", kind: "ip_pool", id: name, name: name)
    }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil }
    }
}
