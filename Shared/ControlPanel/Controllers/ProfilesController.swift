import BSON
import Content
import CustomerData
import Foundation
import Hummingbird
import Security
import ServiceSupport
import Templates

/// Profiles and the profile card: `/databases/:id/profiles` in the panel, and
/// `/api/v1/databases/:id/profiles` (single and bulk upsert, read, change, delete, activity,
/// relations) in the API.
struct ProfilesController {
    let customers: CustomerDataService
    let segments: SegmentService
    let campaigns: CampaignService
    let promoCodes: PromoCodeService
    let scenarioEntries: ScenarioEntryService
    let renderer: PanelRenderer

    func addRoutes(to router: Router<PanelRequestContext>) {
        router.get("/databases/:id/profiles", use: list)
        router.post("/databases/:id/profiles", use: create)
        router.get("/databases/:id/profiles/:pid", use: card)
        router.post("/databases/:id/profiles/:pid", use: update)
        router.post("/databases/:id/profiles/:pid/subscriptions", use: subscribe)
        router.post("/databases/:id/profiles/:pid/relations", use: relate)
        router.post("/databases/:id/profiles/:pid/relations/:rid/delete", use: unrelate)
        router.post("/databases/:id/profiles/:pid/delete", use: delete)
        router.post("/databases/:id/profiles/:pid/send", use: sendFromCard)
        router.post("/api/v1/databases/:id/profiles/:pid/send", use: apiSend)
        router.post("/databases/:id/profiles/:pid/promo-codes", use: issuePromoCodeFromCard)
        router.post("/api/v1/databases/:id/profiles/:pid/promo-codes", use: apiIssuePromoCode)
        router.get("/api/v1/databases/:id/profiles/:pid/promo-codes", use: apiPromoCodes)
        router.post("/databases/:id/profiles/:pid/scenarios", use: enterScenarioFromCard)
        router.post("/api/v1/databases/:id/profiles/:pid/scenarios", use: apiEnterScenario)
        router.get("/api/v1/databases/:id/profiles", use: apiList)
        router.post("/api/v1/databases/:id/profiles", use: apiUpsert)
        router.post("/api/v1/databases/:id/profiles/bulk", use: apiBulk)
        router.get("/api/v1/databases/:id/profiles/:pid", use: apiGet)
        router.patch("/api/v1/databases/:id/profiles/:pid", use: apiUpdate)
        router.delete("/api/v1/databases/:id/profiles/:pid", use: apiDelete)
        router.get("/api/v1/databases/:id/profiles/:pid/activity", use: apiActivity)
        router.post("/api/v1/databases/:id/profiles/:pid/relations", use: apiRelate)
    }

    // MARK: Panel

    /// The inputs of a profile form, one per field, typed for the browser.
    static func inputs(_ database: ProfileDatabase, profile: Profile?, catalog: Catalog) -> [[String: Any]] {
        database.fields.map { field in
            let value = StoredValueText.text(profile?[field: field.key])
            var input: [String: Any] = ["key": field.key, "title": field.title, "value": value, "required": field.required,
                                        "type": catalog.text("field_types." + field.type.rawValue)]
            switch field.type {
            case .table: input["textarea"] = true
            case .boolean: input["select"] = true; input["choices"] = [["value": "", "label": "—", "selected": value.isEmpty],
                                               ["value": "true", "label": catalog.text("common.yes"), "selected": value == "true"],
                                               ["value": "false", "label": catalog.text("common.no"), "selected": value == "false"]]
            case .enumeration: input["select"] = true; input["choices"] = [["value": "", "label": "—", "selected": value.isEmpty]]
                + field.options.map { ["value": $0, "label": $0, "selected": $0 == value] }
            case .date: input["html"] = "date"
            case .email: input["html"] = "email"
            case .phone: input["html"] = "tel"
            case .integer, .decimal: input["html"] = "text"; input["numeric"] = true
            default: input["html"] = "text"
            }
            return input
        }
    }

    /// The values a profile form sent: an emptied field clears, an untouched empty one is left out.
    static func values(from form: FormData, database: ProfileDatabase, profile: Profile?) -> [String: FieldInput] {
        var values: [String: FieldInput] = [:]
        for field in database.fields {
            guard let raw = form["f_\(field.key)"] else { continue }
            let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty {
                if profile?[field: field.key] != nil { values[field.key] = .null }
            } else if trimmed != StoredValueText.text(profile?[field: field.key]) {
                values[field.key] = .text(trimmed)
            }
        }
        return values
    }

    func listPage(_ id: String, request: Request, context: PanelRequestContext, extra: [String: Any] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.profiles, .view)
        let database = try await customers.database(id, for: identity)
        let search = request.uri.queryParameters["q"].map(String.init) ?? ""
        let page = max(0, Int(request.uri.queryParameters["page"].map(String.init) ?? "") ?? 0)
        let found = try await customers.profiles.list(database, search: search, skip: page * 50, limit: 51)
        let shown = Array(found.prefix(50))
        let columns = Array(database.fields.filter { $0.type != .table }.prefix(5))
        let catalog = renderer.catalogs[context.language]
        var values: [String: Any] = [
            "database": ["id": database._id, "name": database.name] as [String: Any],
            "columns": columns.map(\.title),
            "profiles": shown.map { profile in
                ["id": profile._id, "title": CustomerDataService.title(of: profile, in: database),
                 "cells": columns.map { StoredValueText.text(profile[field: $0.key]) }, "updated": profile.updatedAt.formatted(.iso8601)] as [String: Any]
            },
            "q": search, "total": try await customers.profiles.count(database),
            "next": found.count > 50 ? String(page + 1) : "", "previous": page > 0 ? String(page - 1) : "",
            "inputs": Self.inputs(database, profile: nil, catalog: catalog), "canCreate": identity.can(.profiles, .create),
        ]
        values.merge(extra) { $1 }
        return renderer.page("profiles", title: "profiles.title", values: values, context: context, status: status, active: "databases")
    }

    @Sendable func list(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await listPage(try context.parameters.require("id"), request: request, context: context)
    }

    @Sendable func create(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let identity = try context.requireIdentity()
        let database = try await customers.database(id, for: identity)
        let form = try await FormData.read(request, context: context)
        let outcome = try await customers.upsert([(Self.values(from: form, database: database, profile: nil), [])], into: id, mode: .add,
                                                 source: "panel", by: identity)[0]
        switch outcome {
        case .created(let pid): return .redirect(to: "/databases/\(id)/profiles/\(pid)", type: .normal)
        case .skipped(let reason), .rejected(let reason):
            return try await listPage(id, request: request, context: context, extra: ["error": reason], status: .unprocessableContent)
        case .updated(let pid), .unchanged(let pid): return .redirect(to: "/databases/\(id)/profiles/\(pid)", type: .normal)
        }
    }

    func cardPage(_ id: String, _ pid: String, request: Request, context: PanelRequestContext, extra: [String: Any] = [:],
                  status: HTTPResponse.Status = .ok, audited: Bool = true) async throws -> Response
    {
        let identity = try context.requireIdentity()
        let (database, profile) = try await customers.profile(pid, in: id, for: identity, audited: audited)
        let catalog = renderer.catalogs[context.language]
        let group = request.uri.queryParameters["kind"].map(String.init) ?? ""
        let before = request.uri.queryParameters["before"].flatMap { try? Date(String($0), strategy: Date.ISO8601FormatStyle()) }
        let events = try await customers.profiles.timeline(of: profile, group: group, before: before, limit: 26)
        var relations: [[String: Any]] = []
        for relation in try await customers.profiles.relations(of: profile) {
            let otherId = relation.fromId == profile._id ? relation.toId : relation.fromId
            let other = try await customers.profiles.profile(otherId, in: database)
            relations.append(["id": relation._id, "kind": catalog.text("relation_kinds." + relation.kind) == "relation_kinds." + relation.kind
                ? relation.kind : catalog.text("relation_kinds." + relation.kind),
                "direction": relation.fromId == profile._id ? "→" : "←", "otherId": otherId,
                "other": other.map { CustomerDataService.title(of: $0, in: database) } ?? otherId])
        }
        var values: [String: Any] = [
            "database": ["id": database._id, "name": database.name] as [String: Any],
            "profile": ["id": profile._id, "title": CustomerDataService.title(of: profile, in: database), "created": profile.createdAt.formatted(.iso8601),
                        "updated": profile.updatedAt.formatted(.iso8601), "version": profile.version] as [String: Any],
            "inputs": Self.inputs(database, profile: profile, catalog: catalog),
            "subscriptions": profile.subscriptions.map { ["channel": catalog.text("channels." + $0.channel.rawValue), "address": $0.address,
                                                          "status": catalog.text("subscription_status." + $0.status.rawValue), "resource": $0.resource,
                                                          "updated": $0.updatedAt.formatted(.iso8601)] },
            "channels": Subscription.Channel.allCases.map { ["value": $0.rawValue, "label": catalog.text("channels." + $0.rawValue)] },
            "statuses": Subscription.Status.allCases.map { ["value": $0.rawValue, "label": catalog.text("subscription_status." + $0.rawValue)] },
            "relations": relations, "relationKinds": ProfileRelation.standardKinds.map { ["value": $0, "label": catalog.text("relation_kinds." + $0)] },
            "events": events.prefix(25).map { event in
                ["at": event.at.formatted(.iso8601), "kind": event.kind, "source": event.source,
                 "details": event.properties.map { "\($0.key): \(StoredValueText.text($0.value))" }.joined(separator: ", ")]
            },
            "kinds": ["", "profile", "message", "site", "goal", "form", "promo", "scenario", "import"].map { ["value": $0, "label": $0.isEmpty ? catalog.text("profiles.all_kinds") : $0, "selected": $0 == group] },
            "kind": group, "older": events.count > 25 ? events[24].at.formatted(.iso8601) : "",
            "canEdit": identity.can(.profiles, .edit), "canDelete": identity.can(.profiles, .delete),
        ]
        if identity.can(.segments, .view) {
            let all = try await segments.list(in: database._id, for: identity)
            let member = Set(try await segments.memberships(of: profile))
            values["memberOf"] = all.filter { member.contains($0._id) }.map { ["id": $0._id, "name": $0.name] }
            values["fixedSegments"] = all.filter { $0.kind == .fixed && !member.contains($0._id) }.map { ["id": $0._id, "name": $0.name] }
            values["canAddToSegment"] = identity.can(.segments, .edit) && all.contains { $0.kind == .fixed && !member.contains($0._id) }
        }
        if identity.can(.campaigns, .send) {
            // Messages the card can send now: the database's active triggered campaigns.
            let triggered = try await campaigns.list(for: identity).filter { $0.kind == .triggered && $0.status == .active && $0.databaseId == database._id }
            values["triggered"] = triggered.map { ["id": $0._id, "name": $0.name] }
            values["canSend"] = !triggered.isEmpty
        }
        if identity.can(.promoCodes, .view) {
            let issued = try await promoCodes.issued(to: profile, for: identity)
            values["promoCodes"] = issued.map { ["code": $0.code, "at": $0.issuedAt?.formatted(.iso8601) ?? ""] }
            var canIssue = false
            if identity.can(.promoCodes, .edit) {
                let pools = try await promoCodes.list(for: identity)
                values["promoPools"] = pools.map { ["id": $0.pool._id, "name": $0.pool.name, "free": $0.free, "disabled": $0.free == 0] }
                canIssue = !pools.isEmpty
            }
            values["canIssuePromoCode"] = canIssue
            values["showPromoCodes"] = canIssue || !issued.isEmpty
        }
        if identity.can(.scenarios, .view) {
            let scenarios = try await scenarioEntries.active(in: database._id, for: identity)
            values["showScenarios"] = true
            values["scenarios"] = scenarios.map { ["id": $0._id, "name": $0.name] }
            values["canEnterScenario"] = identity.can(.scenarios, .send) && !scenarios.isEmpty
        }
        values.merge(extra) { $1 }
        return renderer.page("profile_card", title: "profiles.card_title", values: values, context: context, status: status, active: "databases")
    }

    /// The card's "Send a message": a triggered campaign's message to this profile, at once.
    @Sendable func sendFromCard(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id"), pid = try context.parameters.require("pid")
        let form = try await FormData.read(request, context: context)
        return try await afterChange(id, pid, request: request, context: context) {
            _ = try await send(form["campaign"] ?? "", database: id, profile: pid, data: [:], identity: try context.requireIdentity())
        }
    }

    func send(_ campaignId: String, database: String, profile: String, data: [String: TemplateValue], identity: Identity) async throws -> String {
        let campaign = try await campaigns.campaign(campaignId, for: identity)
        guard campaign.databaseId == database else { throw InvalidInput("campaign", "campaign_invalid", "the campaign '\(campaign.name)' sends to another database") }
        return try await campaigns.sendTriggered(campaignId, profileId: profile, email: nil, data: data, by: identity)
    }

    /// `POST /api/v1/databases/{id}/profiles/{pid}/send {"campaignId", "data"}`: as the card's button.
    @Sendable func apiSend(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.campaigns, .send)
        let (campaignId, body) = try await Self.objectBody(request, naming: "campaignId", "give the triggered campaign's 'campaignId' (and optional 'data')")
        var data: [String: TemplateValue] = [:]
        for (key, value) in body["data"] as? [String: Any] ?? [:] { data[key] = TemplateData.json(value) }
        let messageId = try await send(campaignId, database: try context.parameters.require("id"), profile: try context.parameters.require("pid"), data: data, identity: identity)
        return try JSONBody.response(["messageId": messageId], status: .accepted)
    }

    /// The card's "Issue a promo code": the chosen pool's next free code goes to this profile.
    @Sendable func issuePromoCodeFromCard(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id"), pid = try context.parameters.require("pid")
        let form = try await FormData.read(request, context: context)
        return try await afterChange(id, pid, request: request, context: context) {
            _ = try await promoCodes.issue(from: form["pool"] ?? "", to: pid, in: id, source: "panel", by: try context.requireIdentity())
        }
    }

    /// `POST /api/v1/databases/{id}/profiles/{pid}/promo-codes {"poolId"}`: as the card's button; answers the code.
    @Sendable func apiIssuePromoCode(_ request: Request, context: PanelRequestContext) async throws -> Response {
        struct Body: Decodable { let poolId: String }
        try context.requireIdentity().require(.promoCodes, .edit)
        let body = try await JSONBody.decode(Body.self, from: request)
        let code = try await promoCodes.issue(from: body.poolId, to: try context.parameters.require("pid"), in: try context.parameters.require("id"),
                                              source: "api", by: try context.requireIdentity())
        return try JSONBody.response(PromoCodeView(code), status: .created)
    }

    /// `GET /api/v1/databases/{id}/profiles/{pid}/promo-codes`: the codes issued to the profile.
    @Sendable func apiPromoCodes(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.promoCodes, .view)
        let (_, profile) = try await customers.profile(try context.parameters.require("pid"), in: try context.parameters.require("id"), for: identity, audited: false)
        return try JSONBody.response(["items": try await promoCodes.issued(to: profile, for: identity).map(PromoCodeView.init)])
    }

    /// The card's "Add to a scenario".
    @Sendable func enterScenarioFromCard(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id"), pid = try context.parameters.require("pid")
        let form = try await FormData.read(request, context: context)
        return try await afterChange(id, pid, request: request, context: context) {
            _ = try await scenarioEntries.enter(form["scenario"] ?? "", profile: pid, in: id, source: "panel", by: try context.requireIdentity())
        }
    }

    /// `POST /api/v1/databases/{id}/profiles/{pid}/scenarios {"scenarioId", "data"}`: as the card's button.
    @Sendable func apiEnterScenario(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.scenarios, .send)
        let (scenarioId, body) = try await Self.objectBody(request, naming: "scenarioId", "give the scenario's 'scenarioId' (and optional 'data')")
        let entryId = try await scenarioEntries.enter(scenarioId, profile: try context.parameters.require("pid"), in: try context.parameters.require("id"),
                                                      data: body["data"] as? [String: Any] ?? [:], source: "api", by: identity)
        return try JSONBody.response(["entryId": entryId], status: .accepted)
    }

    /// A JSON object body with a string `field` (an id) and free-form values besides; 400 with `hint` otherwise.
    static func objectBody(_ request: Request, naming field: String, _ hint: String) async throws -> (String, [String: Any]) {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        guard let body = try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any], let value = body[field] as? String else {
            throw APIError(.badRequest, code: "missing_field", message: hint, field: field)
        }
        return (value, body)
    }

    struct PromoCodeView: Encodable {
        let code: String, poolId: String, profileId: String, issuedAt: Date?
        init(_ c: PromoCode) { code = c.code; poolId = c.poolId; profileId = c.profileId; issuedAt = c.issuedAt }
    }

    @Sendable func card(_ request: Request, context: PanelRequestContext) async throws -> Response {
        var extra: [String: Any] = [:]
        if let notice = request.uri.queryParameters["notice"] { extra["notice"] = renderer.catalogs[context.language].text("notices." + String(notice)) }
        return try await cardPage(try context.parameters.require("id"), try context.parameters.require("pid"), request: request, context: context, extra: extra)
    }

    func afterChange(_ id: String, _ pid: String, request: Request, context: PanelRequestContext, _ change: () async throws -> Void) async throws -> Response {
        do {
            try await change()
        } catch let error as InvalidInput {
            return try await cardPage(id, pid, request: request, context: context,
                                      extra: ["error": error.field + ": " + renderer.message(error.key, error.arguments, context: context)],
                                      status: .unprocessableContent, audited: false)
        }
        return .redirect(to: "/databases/\(id)/profiles/\(pid)?notice=saved", type: .normal)
    }

    @Sendable func update(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id"), pid = try context.parameters.require("pid")
        let identity = try context.requireIdentity()
        let form = try await FormData.read(request, context: context)
        return try await afterChange(id, pid, request: request, context: context) {
            let (database, profile) = try await customers.profile(pid, in: id, for: identity, audited: false)
            let values = Self.values(from: form, database: database, profile: profile)
            guard !values.isEmpty else { return }
            _ = try await customers.updateProfile(pid, in: id, values: values, subscriptions: [], source: "panel", by: identity)
        }
    }

    @Sendable func subscribe(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id"), pid = try context.parameters.require("pid")
        let form = try await FormData.read(request, context: context)
        return try await afterChange(id, pid, request: request, context: context) {
            guard let channel = Subscription.Channel(rawValue: form["channel"] ?? ""), let status = Subscription.Status(rawValue: form["status"] ?? "") else {
                throw InvalidInput("channel", "invalid_value", "choose a channel and a status")
            }
            let address = try Self.subscriptionAddress(form["address"] ?? "", channel: channel)
            _ = try await customers.updateProfile(pid, in: id, values: [:], subscriptions: [Subscription(channel: channel, address: address, status: status,
                                                                                                           resource: (form["resource"] ?? "").trimmingCharacters(in: .whitespaces))],
                                                  source: "panel", by: try context.requireIdentity())
        }
    }

    /// An address checked for its channel: e-mail and phone as the field types check them.
    static func subscriptionAddress(_ raw: String, channel: Subscription.Channel) throws -> String {
        let text = raw.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, text.count <= 4096 else { throw InvalidInput("address", "invalid_value", "give the address, number, chat id or token") }
        let type: FieldType? = switch channel {
        case .email: .email
        case .sms: .phone
        default: nil
        }
        guard let type else { return text }
        switch FieldValueParser.parse(.text(text), as: FieldDefinition(key: "address", title: "Address", type: type)) {
        case .success(let value): return value.stringValue ?? text
        case .failure(let failure): throw InvalidInput("address", "invalid_value", failure.message)
        }
    }

    @Sendable func relate(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id"), pid = try context.parameters.require("pid")
        let form = try await FormData.read(request, context: context)
        return try await afterChange(id, pid, request: request, context: context) {
            let kind = (form["custom"] ?? "").isEmpty ? (form["kind"] ?? "") : form["custom"]!
            _ = try await customers.relate(pid, to: (form["toId"] ?? "").trimmingCharacters(in: .whitespaces), kind: kind, in: id, by: try context.requireIdentity())
        }
    }

    @Sendable func unrelate(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id"), pid = try context.parameters.require("pid")
        try await customers.unrelate(try context.parameters.require("rid"), in: id, by: try context.requireIdentity())
        return .redirect(to: "/databases/\(id)/profiles/\(pid)?notice=saved", type: .normal)
    }

    @Sendable func delete(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        try await customers.deleteProfile(try context.parameters.require("pid"), in: id, by: try context.requireIdentity())
        return .redirect(to: "/databases/\(id)/profiles", type: .normal)
    }

    // MARK: API

    struct ProfileBody: Decodable {
        let fields: [String: FieldInput]?
        let subscriptions: [SubscriptionBody]?
        let mode: ProfileWriter.Mode?
    }

    struct SubscriptionBody: Decodable {
        let channel: Subscription.Channel
        let address: String
        let status: Subscription.Status?
        let resource: String?
    }

    struct BulkBody: Decodable {
        let mode: ProfileWriter.Mode?
        let profiles: [ProfileBody]
    }

    static func subscriptions(_ bodies: [SubscriptionBody]?) throws -> [Subscription] {
        try (bodies ?? []).map { body in
            Subscription(channel: body.channel, address: try subscriptionAddress(body.address, channel: body.channel), status: body.status ?? .active,
                         resource: body.resource ?? "")
        }
    }

    @Sendable func apiList(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.profiles, .view)
        let database = try await customers.database(try context.parameters.require("id"), for: identity)
        let q = request.uri.queryParameters
        let limit = min(1000, max(1, Int(q["limit"].map(String.init) ?? "") ?? 100))
        let skip = max(0, Int(q["skip"].map(String.init) ?? "") ?? 0)
        let profiles = try await customers.profiles.list(database, search: q["search"].map(String.init), skip: skip, limit: limit)
        return try JSONBody.response(ListView(items: profiles.map(ProfileView.init)))
    }

    @Sendable func apiUpsert(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.profiles, .create)
        let body = try await JSONBody.decode(ProfileBody.self, from: request)
        let outcome = try await customers.upsert([(body.fields ?? [:], try Self.subscriptions(body.subscriptions))], into: try context.parameters.require("id"),
                                                 mode: body.mode ?? .upsert, source: "api", by: identity)[0]
        switch outcome {
        case .rejected(let reason): throw APIErrorFor.invalid(reason)
        case .skipped(let reason): throw APIErrorFor.conflict(reason)
        default: return try JSONBody.response(OutcomeView(index: 0, outcome), status: outcome == .created(outcome.profileId ?? "") ? .created : .ok)
        }
    }

    /// Up to 10,000 profiles in one request; every row gets its own result.
    @Sendable func apiBulk(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.profiles, .create)
        let buffer = try await request.body.collect(upTo: 64 << 20)
        let body: BulkBody
        do {
            body = try JSONDecoder().decode(BulkBody.self, from: Data(buffer: buffer))
        } catch {
            throw APIErrorFor.badBody("send {\"mode\": \"upsert\", \"profiles\": [{\"fields\": {…}}, …]}: \(error)")
        }
        guard (1...10_000).contains(body.profiles.count) else { throw APIErrorFor.invalid("send 1 to 10,000 profiles per request", field: "profiles") }
        var rows: [(values: [String: FieldInput], subscriptions: [Subscription])] = []
        var early: [Int: ProfileWriter.Outcome] = [:]
        for (index, profile) in body.profiles.enumerated() {
            do {
                rows.append((profile.fields ?? [:], try Self.subscriptions(profile.subscriptions)))
            } catch let error as InvalidInput {
                early[index] = .rejected("\(error.field): \(error.arguments.first ?? error.key)")
                rows.append(([:], []))
            }
        }
        var outcomes = try await customers.upsert(rows, into: try context.parameters.require("id"), mode: body.mode ?? .upsert, source: "api", by: identity)
        for (index, outcome) in early { outcomes[index] = outcome }
        struct Answer: Encodable { let created: Int, updated: Int, unchanged: Int, skipped: Int, rejected: Int, results: [OutcomeView] }
        let views = outcomes.enumerated().map { OutcomeView(index: $0.offset, $0.element) }
        func count(_ name: String) -> Int { views.filter { $0.result == name }.count }
        return try JSONBody.response(Answer(created: count("created"), updated: count("updated"), unchanged: count("unchanged"), skipped: count("skipped"),
                                            rejected: count("rejected"), results: views))
    }

    @Sendable func apiGet(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let (_, profile) = try await customers.profile(try context.parameters.require("pid"), in: try context.parameters.require("id"), for: try context.requireIdentity())
        return try JSONBody.response(ProfileView(profile))
    }

    @Sendable func apiUpdate(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.profiles, .edit)
        let body = try await JSONBody.decode(ProfileBody.self, from: request)
        let profile = try await customers.updateProfile(try context.parameters.require("pid"), in: try context.parameters.require("id"), values: body.fields ?? [:],
                                                        subscriptions: try Self.subscriptions(body.subscriptions), source: "api", by: identity)
        return try JSONBody.response(ProfileView(profile))
    }

    @Sendable func apiDelete(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await customers.deleteProfile(try context.parameters.require("pid"), in: try context.parameters.require("id"), by: try context.requireIdentity())
        return Response(status: .noContent)
    }

    @Sendable func apiActivity(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let (_, profile) = try await customers.profile(try context.parameters.require("pid"), in: try context.parameters.require("id"),
                                                       for: try context.requireIdentity(), audited: false)
        let q = request.uri.queryParameters
        let before = q["before"].flatMap { try? Date(String($0), strategy: Date.ISO8601FormatStyle()) }
        let limit = min(500, max(1, Int(q["limit"].map(String.init) ?? "") ?? 50))
        let events = try await customers.profiles.timeline(of: profile, group: q["kind"].map(String.init), before: before, limit: limit)
        return try JSONBody.response(ListView(items: events.map(ActivityView.init)))
    }

    struct RelationBody: Decodable {
        let toId: String
        let kind: String
    }

    @Sendable func apiRelate(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        try identity.require(.profiles, .edit)
        let body = try await JSONBody.decode(RelationBody.self, from: request)
        let relation = try await customers.relate(try context.parameters.require("pid"), to: body.toId, kind: body.kind, in: try context.parameters.require("id"), by: identity)
        return try JSONBody.response(relation, status: .created)
    }
}

/// API errors for answers that are not a domain refusal.
enum APIErrorFor {
    static func invalid(_ message: String, field: String? = nil) -> APIError {
        APIError(.unprocessableContent, code: "invalid_field", message: message, field: field)
    }

    static func conflict(_ message: String) -> APIError { APIError(.conflict, code: "conflict", message: message) }

    static func badBody(_ message: String) -> APIError { APIError(.badRequest, code: "invalid_json", message: message) }
}
