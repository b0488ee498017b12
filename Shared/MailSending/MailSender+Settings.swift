import BSON
import Foundation
import Mongo
import MIME

/// What mta-sender reads from the settings store every few seconds — destination rules, IP
/// pools, DKIM keys, operators' controls — and what it reports there about its queues.
extension MailSender {
    func refreshLoop() async {
        while !isStopping {
            try? await Task.sleep(for: configuration.refreshInterval)
            do {
                try await refresh()
                try await report()
            } catch {
                logger.warning("settings could not be read; keeping the last ones", metadata: ["error": "\(error)"])
            }
        }
    }

    func settleLoop() async {
        while true {
            let idle = !(await settlements.flush())
            if idle {
                let done = state.withLock { $0.stopping && $0.activeConnections == 0 }
                if done { return }
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
    }

    func refresh() async throws {
        let rules = try await settings.collection(DestinationRule.collectionName, of: DestinationRule.self).find().collect()
        let pools = try await settings.collection(IPPool.collectionName, of: IPPool.self).find().collect()
        let domains = try await settings.collection(SendingDomain.collectionName, of: SendingDomain.self).find().collect()
        let controls = try await settings.collection(DeliveryControl.collectionName, of: DeliveryControl.self).find().collect()
        var paused = Set<String>(), cancelled = Set<String>()
        for campaign in try await settings.collection("campaigns", of: BSONDocument.self)
            .find(["status": ["$in": ["paused", "cancelled"]]], options: FindOptions(projection: ["_id": 1, "status": 1])).collect() {
            guard case .string(let id)? = campaign["_id"] else { continue }
            if campaign["status"] == "paused" { paused.insert(id) } else { cancelled.insert(id) }
        }
        var signers: [String: DKIMSigner] = [:]
        for domain in domains {
            do {
                signers[domain._id] = try domain.signer()
            } catch {
                logger.error("a sending domain's DKIM key is unusable", metadata: ["mta.sender": "\(domain._id)", "error": "\(error)"])
            }
        }
        let (sites, previous) = state.withLock { s -> ([DeliverySite], [String: DeliveryControl]) in
            let previous = s.controls
            s.rules = rules
            s.pools = Dictionary(pools.map { ($0._id, $0) }, uniquingKeysWith: { a, _ in a })
            s.signers = signers
            s.controls = Dictionary(controls.map { ($0._id, $0) }, uniquingKeysWith: { a, _ in a })
            s.pausedCampaigns = paused
            s.cancelledCampaigns = cancelled
            return (Array(s.sites.values), previous)
        }
        for site in sites {
            let route = await site.route
            let rule = DestinationRule.applying(to: route.domain, hosts: route.hosts.map(\.name), among: rules)
            if rule != (await site.rule) { await site.update(rule: rule, route: route) }
            let control = controls.first { $0._id == site.site }
            let paused = control?.paused ?? false
            if paused != (await site.pausedByOperator) {
                let held = await site.setPaused(paused)
                for message in held { park(message, until: Date().addingTimeInterval(30), site: site.site) }
                if !paused, await site.needsConnection() { spawn.yield(site) }
            }
            if let retryAt = control?.retryAt, retryAt != previous[site.site]?.retryAt, await site.resumeNow() {
                // "Retry now" also ends a backoff: the destination is tried again at once.
                spawn.yield(site)
            }
            if let purgedAt = control?.purgedAt, purgedAt != previous[site.site]?.purgedAt {
                for message in await site.drain() {
                    if message.email.meta.occurredAt.date <= purgedAt {
                        fail(message, reason: "purged", diagnostic: "purged by \(control!.updatedBy) from the queue of \(site.site)")
                    } else if await site.enqueue(message) {
                        spawn.yield(site)
                    }
                }
            }
        }
    }

    /// This node's destinations, for the panel (sites idle for an hour are forgotten).
    func report() async throws {
        let sites = state.withLock { Array($0.sites.values) }
        var reported: [SenderNodeReport.Site] = []
        var idle: [String] = []
        for site in sites {
            let report = await site.report()
            if report.waiting == 0, report.inFlight == 0, await site.lastActivity < Date().addingTimeInterval(-3600) {
                idle.append(site.key)
            } else {
                reported.append(report)
            }
        }
        if !idle.isEmpty { state.withLock { s in for key in idle { s.sites[key] = nil } } }
        let node = SenderNodeReport(_id: configuration.node, startedAt: startedAt, updatedAt: Date(), sites: reported.sorted { $0.site < $1.site })
        _ = try await settings.collection(SenderNodeReport.collectionName, of: SenderNodeReport.self)
            .replaceOne(filter: ["_id": .string(configuration.node)], replacement: node, upsert: true)
    }
}
