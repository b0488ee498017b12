import Campaigns
import Foundation
import Hummingbird
import MailSending
import Security
import ServiceSupport
import SMTP

/// The sender: `/settings/delivery` (queues per destination with pause, resume, purge and retry;
/// destination rules; sending domains with their DKIM records; IP pools) and
/// `/api/v1/delivery/…`.
struct DeliveryController {
    let delivery: DeliveryService
    let renderer: PanelRenderer

    func addRoutes(to router: Router<PanelRequestContext>) {
        router.get("/settings/delivery", use: page)
        router.post("/settings/delivery/sites", use: siteFromForm)
        router.post("/settings/delivery/rules", use: ruleFromForm)
        router.post("/settings/delivery/rules/:id/delete", use: deleteRuleFromForm)
        router.post("/settings/delivery/domains", use: domainFromForm)
        router.post("/settings/delivery/domains/:domain/delete", use: deleteDomainFromForm)
        router.post("/settings/delivery/pools", use: poolFromForm)
        router.post("/settings/delivery/limits", use: limitsFromForm)
        router.get("/api/v1/delivery/limits", use: apiLimits)
        router.put("/api/v1/delivery/limits", use: apiSaveLimits)
        router.post("/settings/delivery/pools/:name/delete", use: deletePoolFromForm)
        router.get("/api/v1/delivery/queues", use: apiQueues)
        router.post("/api/v1/delivery/sites/:site/:action", use: apiSite)
        router.get("/api/v1/delivery/rules", use: apiRules)
        router.post("/api/v1/delivery/rules", use: apiSaveRule)
        router.put("/api/v1/delivery/rules/:id", use: apiSaveRule)
        router.delete("/api/v1/delivery/rules/:id", use: apiDeleteRule)
        router.get("/api/v1/delivery/domains", use: apiDomains)
        router.post("/api/v1/delivery/domains", use: apiAddDomain)
        router.delete("/api/v1/delivery/domains/:domain", use: apiDeleteDomain)
        router.get("/api/v1/delivery/pools", use: apiPools)
        router.put("/api/v1/delivery/pools/:name", use: apiSavePool)
        router.delete("/api/v1/delivery/pools/:name", use: apiDeletePool)
    }

    // MARK: Panel

    func pageResponse(context: PanelRequestContext, extra: [String: Any] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = try context.requireIdentity()
        let queues = try await delivery.queues(for: identity)
        var values: [String: Any] = [
            "bulk": queues.bulk, "transactional": queues.transactional, "deferred": queues.deferred, "nodes": queues.nodes.joined(separator: ", "),
            "sites": queues.sites.map { s -> [String: Any] in
                ["site": s.site, "pool": s.pool, "domains": s.domains.joined(separator: ", "), "rule": s.rule, "waiting": s.waiting, "inFlight": s.inFlight,
                 "connections": s.connections, "delivered": s.delivered, "deferred": s.deferred, "bounced": s.bounced, "failed": s.failed,
                 "paused": s.paused, "suspended": s.suspendedUntil?.formatted(.iso8601) ?? "", "lastReply": s.lastReply]
            },
            "rules": try await delivery.ruleList(for: identity).map { r -> [String: Any] in
                ["id": r._id, "name": r.name, "match": r.match, "maxConnections": r.maxConnections, "messagesPerConnection": r.messagesPerConnection,
                 "perMinute": r.perMinute.map(String.init) ?? "", "perHour": r.perHour.map(String.init) ?? "", "backoff": r.backoffSeconds,
                 "tls": r.tls?.rawValue ?? "", "firstDelay": r.retry.firstDelaySeconds, "maxAgeHours": r.retry.maxAgeSeconds / 3600,
                 "warmUp": r.warmUp.map { w -> [String: Any] in
                     let view = WarmUpView(w)
                     return ["day": view.day + 1, "allowance": view.allowanceToday.map(String.init) ?? "", "over": view.allowanceToday == nil,
                             "start": w.startPerDay, "factor": w.factor, "target": w.targetPerDay, "startedOn": view.startedOn]
                 } ?? false]
            },
            "domains": try await delivery.domainList(for: identity).map { d -> [String: Any] in
                ["domain": d._id, "selector": d.selector, "algorithm": d.algorithm.rawValue, "returnPath": d.returnPathDomain,
                 "record": (try? d.signer().dnsRecord) ?? "the key is unusable"]
            },
            "pools": try await delivery.poolList(for: identity).map { ["name": $0._id, "addresses": $0.addresses.joined(separator: ", "), "helo": $0.heloName ?? ""] },
            "tlsPolicies": SMTPClient.TLSPolicy.allCases.map(\.rawValue),
            "limits": try await limitsValues(for: identity),
            "canEdit": identity.can(.channels, .edit),
        ]
        values.merge(extra) { $1 }
        return renderer.page("delivery", title: "delivery.title", values: values, context: context, status: status, active: "delivery")
    }

    func limitsValues(for identity: Identity) async throws -> [String: Any] {
        let limits = try await delivery.accountLimits(for: identity)
        let ramp = limits.rampUp
        return [
            "perHour": limits.perHour.map(String.init) ?? "", "perDay": limits.perDay.map(String.init) ?? "", "ipPool": limits.ipPool ?? "",
            "rampStart": ramp.map { String($0.startPerDay) } ?? "", "rampFactor": ramp.map { String($0.factor) } ?? "1.5",
            "rampMax": ramp?.maxPerDay.map(String.init) ?? "", "rampBounces": ramp.map { String($0.bounceThreshold * 100) } ?? "5",
            "rampComplaints": ramp.map { String($0.complaintThreshold * 100) } ?? "0.1", "allowance": limits.dailyAllowance.map(String.init) ?? "",
            "hasHistory": !(ramp?.history ?? []).isEmpty,
            "history": (ramp?.history ?? []).suffix(14).reversed().map { ["day": $0.day, "sent": $0.sent, "bounced": $0.bounced, "complained": $0.complained,
                                                                          "decision": $0.decision.rawValue, "allowance": $0.allowance] },
        ]
    }

    @Sendable func page(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await pageResponse(context: context)
    }

    func handle(_ context: PanelRequestContext, _ body: () async throws -> Void) async throws -> Response {
        do {
            try await body()
        } catch let error as InvalidInput {
            return try await pageResponse(context: context, extra: ["error": renderer.message(error.key, error.arguments, context: context)], status: .unprocessableContent)
        }
        return .redirect(to: "/settings/delivery?notice=saved", type: .normal)
    }

    @Sendable func siteFromForm(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let form = try await FormData.read(request, context: context)
        return try await handle(context) {
            guard let action = DeliveryService.SiteAction(rawValue: form["action"] ?? "") else { throw InvalidInput("action", "campaign_invalid", "pause, resume, purge or retry") }
            try await delivery.control(form["site"] ?? "", action, by: try context.requireIdentity())
        }
    }

    @Sendable func ruleFromForm(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let form = try await FormData.read(request, context: context)
        return try await handle(context) {
            var rule = DestinationRule(id: (form["id"] ?? "").isEmpty ? UUID().uuidString.lowercased() : form["id"]!, name: form["name"] ?? "", match: form["match"] ?? "",
                                       maxConnections: try form.optionalInt("maxConnections") ?? 10, messagesPerConnection: try form.optionalInt("messagesPerConnection") ?? 100,
                                       perMinute: try form.optionalInt("perMinute"), perHour: try form.optionalInt("perHour"), backoffSeconds: try form.optionalInt("backoff") ?? 300,
                                       tls: SMTPClient.TLSPolicy(rawValue: form["tls"] ?? ""))
            rule.retry.firstDelaySeconds = try form.optionalInt("firstDelay") ?? rule.retry.firstDelaySeconds
            rule.retry.maxAgeSeconds = (try form.optionalInt("maxAgeHours")).map { $0 * 3600 } ?? rule.retry.maxAgeSeconds
            if let start = try form.optionalInt("warmStart") {
                rule.warmUp = ProviderWarmUp(startPerDay: start, factor: try form.optionalNumber("warmFactor") ?? 1.5,
                                             targetPerDay: try form.optionalInt("warmTarget") ?? start * 100,
                                             startedOn: try WarmUpBody.day(form["warmFrom"], field: "warmFrom") ?? Date())
            }
            _ = try await delivery.save(rule, by: try context.requireIdentity())
        }
    }

    @Sendable func deleteRuleFromForm(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await handle(context) { try await delivery.deleteRule(try context.parameters.require("id"), by: try context.requireIdentity()) }
    }

    @Sendable func domainFromForm(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let form = try await FormData.read(request, context: context)
        return try await handle(context) {
            _ = try await delivery.addDomain(form["domain"] ?? "", selector: form["selector"] ?? "", algorithm: SendingDomain.Algorithm(rawValue: form["algorithm"] ?? "") ?? .rsa2048,
                                             returnPathDomain: form["returnPath"], by: try context.requireIdentity())
        }
    }

    @Sendable func deleteDomainFromForm(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await handle(context) { try await delivery.deleteDomain(try context.parameters.require("domain"), by: try context.requireIdentity()) }
    }

    @Sendable func poolFromForm(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let form = try await FormData.read(request, context: context)
        return try await handle(context) {
            _ = try await delivery.savePool(form["name"] ?? "", addresses: (form["addresses"] ?? "").split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init),
                                            heloName: form["helo"], by: try context.requireIdentity())
        }
    }

    @Sendable func limitsFromForm(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let form = try await FormData.read(request, context: context)
        return try await handle(context) {
            let start = try form.optionalNumber("rampStart")
            let ramp = try start.map { DeliveryService.RampUpSettings(startPerDay: Int($0), factor: try form.optionalNumber("rampFactor"), maxPerDay: try form.optionalNumber("rampMax").map { Int($0) },
                                                                       bounceThreshold: try form.optionalNumber("rampBounces").map { $0 / 100 },
                                                                       complaintThreshold: try form.optionalNumber("rampComplaints").map { $0 / 100 }) }
            _ = try await delivery.saveLimits(.init(perHour: try form.optionalNumber("perHour").map { Int($0) }, perDay: try form.optionalNumber("perDay").map { Int($0) }, rampUp: ramp,
                                                    ipPool: form["ipPool"]),
                                              by: try context.requireIdentity())
        }
    }

    @Sendable func deletePoolFromForm(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await handle(context) { try await delivery.deletePool(try context.parameters.require("name"), by: try context.requireIdentity()) }
    }

    // MARK: API

    @Sendable func apiQueues(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(try await delivery.queues(for: try context.requireIdentity()))
    }

    @Sendable func apiSite(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try context.requireIdentity().require(.channels, .edit)
        guard let action = DeliveryService.SiteAction(rawValue: try context.parameters.require("action")) else { throw ObjectNotFound("action", "") }
        let site = try context.parameters.require("site").removingPercentEncoding ?? ""
        try await delivery.control(site, action, by: try context.requireIdentity())
        return Response(status: .noContent)
    }

    struct RuleView: Encodable {
        let id: String, name: String, match: String, maxConnections: Int, messagesPerConnection: Int, perMinute: Int?, perHour: Int?, backoffSeconds: Int
        let tls: String?, retry: RetrySchedule, warmUp: WarmUpView?, updatedAt: Date
        init(_ r: DestinationRule) {
            id = r._id; name = r.name; match = r.match; maxConnections = r.maxConnections; messagesPerConnection = r.messagesPerConnection; perMinute = r.perMinute
            perHour = r.perHour; backoffSeconds = r.backoffSeconds; tls = r.tls?.rawValue; retry = r.retry; warmUp = r.warmUp.map { WarmUpView($0) }
            updatedAt = r.updatedAt
        }
    }

    /// A rule's warm-up as the API shows it: the settings, and where it stands today.
    struct WarmUpView: Encodable {
        let startPerDay: Int, factor: Double, targetPerDay: Int, startedOn: String
        /// Days since the start (0 on the first day).
        let day: Int
        /// Each source IP's allowance today; absent once the warm-up is over.
        let allowanceToday: Int?
        init(_ w: ProviderWarmUp, now: Date = Date()) {
            startPerDay = w.startPerDay; factor = w.factor; targetPerDay = w.targetPerDay
            startedOn = w.startedOn.formatted(.iso8601.year().month().day())
            day = w.day(of: now); allowanceToday = w.allowance(on: now)
        }
    }

    struct WarmUpBody: Decodable {
        let startPerDay: Int, factor: Double?, targetPerDay: Int, startedOn: String?

        /// A day given as `2026-11-29` (or a full ISO 8601 time); nil when empty.
        static func day(_ text: String?, field: String) throws -> Date? {
            guard let text, !text.isEmpty else { return nil }
            if let date = (try? Date(text, strategy: .iso8601.year().month().day())) ?? (try? Date(text, strategy: .iso8601)) { return date }
            throw InvalidInput(field, "campaign_invalid", "a day as YYYY-MM-DD")
        }

        func warmUp() throws -> ProviderWarmUp {
            ProviderWarmUp(startPerDay: startPerDay, factor: factor ?? 1.5, targetPerDay: targetPerDay,
                           startedOn: try Self.day(startedOn, field: "warmUp.startedOn") ?? Date())
        }
    }

    struct RuleBody: Decodable {
        let name: String?, match: String, maxConnections: Int?, messagesPerConnection: Int?, perMinute: Int?, perHour: Int?, backoffSeconds: Int?
        let tls: SMTPClient.TLSPolicy?, retry: RetrySchedule?, warmUp: WarmUpBody?
    }

    @Sendable func apiRules(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(["items": try await delivery.ruleList(for: try context.requireIdentity()).map(RuleView.init)])
    }

    @Sendable func apiSaveRule(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try context.requireIdentity().require(.channels, .edit)
        let body = try await JSONBody.decode(RuleBody.self, from: request)
        let id = context.parameters.get("id") ?? UUID().uuidString.lowercased()
        let rule = DestinationRule(id: id, name: body.name ?? "", match: body.match, maxConnections: body.maxConnections ?? 10,
                                   messagesPerConnection: body.messagesPerConnection ?? 100, perMinute: body.perMinute, perHour: body.perHour,
                                   backoffSeconds: body.backoffSeconds ?? 300, tls: body.tls, retry: body.retry ?? RetrySchedule(),
                                   warmUp: try body.warmUp?.warmUp())
        let saved = try await delivery.save(rule, by: try context.requireIdentity())
        return try JSONBody.response(RuleView(saved), status: context.parameters.get("id") == nil ? .created : .ok)
    }

    @Sendable func apiDeleteRule(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await delivery.deleteRule(try context.parameters.require("id"), by: try context.requireIdentity())
        return Response(status: .noContent)
    }

    struct DomainView: Encodable {
        let domain: String, selector: String, algorithm: String, returnPathDomain: String, dnsName: String, dnsRecord: String, createdAt: Date
        init(_ d: SendingDomain) {
            domain = d._id; selector = d.selector; algorithm = d.algorithm.rawValue; returnPathDomain = d.returnPathDomain
            dnsName = "\(d.selector)._domainkey.\(d._id)"; dnsRecord = (try? d.signer().dnsRecord) ?? ""; createdAt = d.createdAt
        }
    }

    struct DomainBody: Decodable { let domain: String, selector: String?, algorithm: SendingDomain.Algorithm?, returnPathDomain: String? }

    @Sendable func apiDomains(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(["items": try await delivery.domainList(for: try context.requireIdentity()).map(DomainView.init)])
    }

    @Sendable func apiAddDomain(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try context.requireIdentity().require(.channels, .edit)
        let body = try await JSONBody.decode(DomainBody.self, from: request)
        let domain = try await delivery.addDomain(body.domain, selector: body.selector ?? "herald1", algorithm: body.algorithm ?? .rsa2048,
                                                  returnPathDomain: body.returnPathDomain, by: try context.requireIdentity())
        return try JSONBody.response(DomainView(domain), status: .created)
    }

    @Sendable func apiDeleteDomain(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await delivery.deleteDomain(try context.parameters.require("domain"), by: try context.requireIdentity())
        return Response(status: .noContent)
    }

    struct LimitsView: Encodable {
        let perHour: Int?, perDay: Int?, rampUp: RampUp?, allowanceToday: Int?, ipPool: String?
        init(_ l: AccountLimits) { perHour = l.perHour; perDay = l.perDay; rampUp = l.rampUp; allowanceToday = l.dailyAllowance; ipPool = l.ipPool }
    }

    @Sendable func apiLimits(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(LimitsView(try await delivery.accountLimits(for: try context.requireIdentity())))
    }

    @Sendable func apiSaveLimits(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try context.requireIdentity().require(.channels, .edit)
        let change = try await JSONBody.decode(DeliveryService.LimitsChange.self, from: request)
        return try JSONBody.response(LimitsView(try await delivery.saveLimits(change, by: try context.requireIdentity())))
    }

    struct PoolView: Encodable {
        let name: String, addresses: [String], heloName: String?
        init(_ p: IPPool) { name = p._id; addresses = p.addresses; heloName = p.heloName }
    }

    struct PoolBody: Decodable { let addresses: [String], heloName: String? }

    @Sendable func apiPools(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(["items": try await delivery.poolList(for: try context.requireIdentity()).map(PoolView.init)])
    }

    @Sendable func apiSavePool(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try context.requireIdentity().require(.channels, .edit)
        let body = try await JSONBody.decode(PoolBody.self, from: request)
        return try JSONBody.response(PoolView(try await delivery.savePool(try context.parameters.require("name"), addresses: body.addresses, heloName: body.heloName,
                                                                         by: try context.requireIdentity())))
    }

    @Sendable func apiDeletePool(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await delivery.deletePool(try context.parameters.require("name"), by: try context.requireIdentity())
        return Response(status: .noContent)
    }
}
