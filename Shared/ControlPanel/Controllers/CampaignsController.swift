import Campaigns
import Content
import Foundation
import Hummingbird
import Security
import ServiceSupport
import Templates

/// Campaigns: `/campaigns` (list, new), `/campaigns/{id}` (edit, launch, pause, resume, cancel,
/// report), `/campaigns/calendar`; and `/api/v1/campaigns/…` with the same operations plus the
/// triggered send.
struct CampaignsController {
    let campaigns: CampaignService
    let templates: TemplateService
    let segments: SegmentService
    let customers: CustomerDataService
    let renderer: PanelRenderer

    func addRoutes(to router: Router<PanelRequestContext>) {
        router.get("/campaigns", use: listPage)
        router.post("/campaigns", use: createFromForm)
        router.get("/campaigns/calendar", use: calendarPage)
        router.get("/campaigns/:id", use: campaignPage)
        router.post("/campaigns/:id", use: updateFromForm)
        router.post("/campaigns/:id/:action", use: actionFromForm)
        router.get("/api/v1/campaigns", use: apiList)
        router.post("/api/v1/campaigns", use: apiCreate)
        router.get("/api/v1/campaigns/calendar", use: apiCalendar)
        router.get("/api/v1/campaigns/:id", use: apiGet)
        router.put("/api/v1/campaigns/:id", use: apiUpdate)
        router.delete("/api/v1/campaigns/:id", use: apiDelete)
        router.get("/api/v1/campaigns/:id/report", use: apiReport)
        router.post("/api/v1/campaigns/:id/launch", use: apiLaunch)
        router.post("/api/v1/campaigns/:id/pause", use: apiPause)
        router.post("/api/v1/campaigns/:id/resume", use: apiResume)
        router.post("/api/v1/campaigns/:id/cancel", use: apiCancel)
        router.post("/api/v1/campaigns/:id/send", use: apiSend)
    }

    // MARK: Panel

    func listResponse(_ request: Request, context: PanelRequestContext, extra: [String: Any] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = try context.requireIdentity()
        let list = try await campaigns.list(for: identity)
        var runs: [String: CampaignRun] = [:]
        for campaign in list { if let id = campaign.lastRunId, let run = try await campaigns.store.runs.findOne(["_id": .string(id)]) { runs[campaign._id] = run } }
        var values: [String: Any] = [
            "campaigns": list.map { c -> [String: Any] in
                let run = runs[c._id]
                return ["id": c._id, "name": c.name, "kind": c.kind.rawValue, "status": c.status.rawValue, "updated": c.updatedAt.formatted(.iso8601),
                        "progress": run.map { "\($0.queued) / \($0.total)" } ?? "", "variants": c.variants.count]
            },
            "databases": try await customers.list(for: identity).map { ["id": $0._id, "name": $0.name] },
            "templates": try await templates.list(for: identity).filter { $0.channel == .email }.map { ["id": $0._id, "name": $0.name] },
            "segments": try await allSegments(for: identity),
            "kinds": Campaign.Kind.allCases.map(\.rawValue),
            "canCreate": identity.can(.campaigns, .create),
        ]
        values.merge(extra) { $1 }
        return renderer.page("campaigns", title: "campaigns.title", values: values, context: context, status: status, active: "campaigns")
    }

    func allSegments(for identity: Identity) async throws -> [[String: Any]] {
        var all: [[String: Any]] = []
        for database in try await customers.list(for: identity) {
            for segment in try await segments.list(in: database._id, for: identity) where segment.sendingId == nil {
                all.append(["id": segment._id, "name": "\(database.name) · \(segment.name)", "database": database._id])
            }
        }
        return all
    }

    @Sendable func listPage(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await listResponse(request, context: context)
    }

    @Sendable func createFromForm(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let form = try await FormData.read(request, context: context)
        let identity = try context.requireIdentity()
        let segmentId = form["segmentId"] ?? ""
        var databaseId = form["databaseId"] ?? ""
        if databaseId.isEmpty, !segmentId.isEmpty { databaseId = (try? await segments.segment(segmentId, for: identity).1._id) ?? "" }
        let draft = CampaignService.Draft(name: form["name"] ?? "", kind: Campaign.Kind(rawValue: form["kind"] ?? ""), databaseId: databaseId,
                                          segmentId: segmentId.isEmpty ? nil : segmentId, templateId: form["templateId"] ?? "")
        do {
            let campaign = try await campaigns.create(draft, by: identity)
            return .redirect(to: "/campaigns/\(campaign._id)?notice=saved", type: .normal)
        } catch let error as InvalidInput {
            return try await listResponse(request, context: context, extra: ["error": renderer.message(error.key, error.arguments, context: context)], status: .unprocessableContent)
        }
    }

    func campaignResponse(_ id: String, context: PanelRequestContext, extra: [String: Any] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = try context.requireIdentity()
        let (campaign, reports) = try await campaigns.report(id, for: identity)
        let s = campaign.schedule, p = campaign.policies
        var values: [String: Any] = [
            "c": [
                "id": campaign._id, "name": campaign.name, "kind": campaign.kind.rawValue, "status": campaign.status.rawValue, "resource": campaign.resource,
                "observers": campaign.observers.joined(separator: "\n"), "perHour": campaign.limits.perHour.map(String.init) ?? "",
                "perDay": campaign.limits.perDay.map(String.init) ?? "", "quietFrom": p.quietFrom.map(String.init) ?? "", "quietTo": p.quietTo.map(String.init) ?? "",
                "frequencyCap": p.frequencyCap.map(String.init) ?? "", "frequencyDays": String(p.frequencyDays), "ipPool": campaign.ipPool,
                "at": s.at.map { Self.localInput($0, zone: s.timeZone) } ?? "", "timeZone": s.timeZone, "recipientTimeZone": s.recipientTimeZone,
                "daily": s.repeats == .daily, "weekly": s.repeats == .weekly, "byCron": s.repeats == .cron, "cron": s.cron ?? "", "nextRunAt": s.nextRunAt?.formatted(.iso8601) ?? "",
                "variants": campaign.variants.map { "\($0.id) | \($0.subject ?? "") | \($0.fromName ?? "")" }.joined(separator: "\n"),
                "testShare": campaign.test.map { String(Int($0.share * 100)) } ?? "", "testWait": campaign.test.map { String($0.waitMinutes) } ?? "240",
                "byClicks": campaign.test?.metric == .clicks, "byConversions": campaign.test?.metric == .conversions,
                "conversionEvent": campaign.test?.conversionEvent ?? "", "winner": (campaign.test?.winner).map { $0 as Any } ?? false,
                "isTriggered": campaign.kind == .triggered, "isRegular": campaign.kind == .regular, "triggerEvent": campaign.triggerEvent ?? "",
            ] as [String: Any],
            "segments": try await allSegments(for: identity).map { var s = $0; s["selected"] = ($0["id"] as? String) == campaign.segmentId; return s },
            "templates": try await templates.list(for: identity).filter { $0.channel == .email }.map { ["id": $0._id, "name": $0.name, "selected": $0._id == campaign.templateId] },
            "runs": reports.map { r -> [String: Any] in
                ["number": r.run.number, "status": r.run.status.rawValue, "total": r.run.total, "queued": r.run.queued, "failed": r.run.failed,
                 "skipped": r.run.skipped.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "),
                 "statuses": r.statuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "),
                 "message": r.run.message, "started": r.run.startedAt?.formatted(.iso8601) ?? "", "phase": r.run.phase,
                 "variants": r.variants.filter { !$0.variant.isEmpty }.map { v in
                     ["variant": v.variant, "sent": v.sent, "delivered": v.delivered, "opened": v.opened, "clicked": v.clicked,
                      "openRate": String(format: "%.1f%%", v.openRate * 100), "clickRate": String(format: "%.1f%%", v.clickRate * 100),
                      "converted": v.converted, "conversionRate": String(format: "%.1f%%", v.conversionRate * 100),
                      "conversions": campaign.test?.metric == .conversions] }]
            },
            "canEdit": identity.can(.campaigns, .edit), "canSend": identity.can(.campaigns, .send), "canDelete": identity.can(.campaigns, .delete),
            "canLaunch": [.draft, .scheduled, .sent, .cancelled, .failed].contains(campaign.status) && campaign.status != .active,
            "canPause": [.sending, .testing, .scheduled, .active].contains(campaign.status), "canResume": campaign.status == .paused,
            "canCancel": [.sending, .testing, .scheduled, .paused, .active].contains(campaign.status),
        ]
        values.merge(extra) { $1 }
        return renderer.page("campaign", title: "campaigns.title", values: values, context: context, status: status, active: "campaigns")
    }

    static func localInput(_ date: Date, zone: String) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: zone) ?? .gmt
        f.dateFormat = "yyyy-MM-dd'T'HH:mm"
        return f.string(from: date)
    }

    static func parseLocal(_ text: String, zone: String) -> Date? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: zone) ?? .gmt
        f.dateFormat = "yyyy-MM-dd'T'HH:mm"
        return f.date(from: text)
    }

    @Sendable func campaignPage(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await campaignResponse(try context.parameters.require("id"), context: context)
    }

    /// The edit form as a draft.
    func draft(from form: FormData, current: Campaign) throws -> CampaignService.Draft {
        var draft = CampaignService.Draft(name: form["name"] ?? current.name, kind: current.kind, databaseId: current.databaseId,
                                          segmentId: (form["segmentId"] ?? "").isEmpty ? current.segmentId : form["segmentId"], templateId: form["templateId"] ?? current.templateId)
        draft.resource = form["resource"] ?? ""
        draft.observers = (form["observers"] ?? "").split(whereSeparator: { $0 == "\n" || $0 == "," || $0 == "\r" }).map(String.init)
        draft.limits = SendingLimits(perHour: try form.optionalInt("perHour"), perDay: try form.optionalInt("perDay"))
        draft.policies = SendingPolicies(quietFrom: try form.optionalInt("quietFrom"), quietTo: try form.optionalInt("quietTo"), frequencyCap: try form.optionalInt("frequencyCap"),
                                         frequencyDays: try form.optionalInt("frequencyDays") ?? 7)
        draft.ipPool = form["ipPool"] ?? ""
        draft.triggerEvent = form["triggerEvent"] ?? ""
        let zone = (form["timeZone"] ?? "UTC").isEmpty ? "UTC" : form["timeZone"]!
        var schedule = current.schedule
        schedule.timeZone = zone
        let at = (form["at"] ?? "").trimmingCharacters(in: .whitespaces)
        if at.isEmpty { schedule.at = nil } else {
            guard let date = Self.parseLocal(at, zone: zone) else { throw InvalidInput("at", "campaign_invalid", "a date and time like 2026-12-01T10:00") }
            schedule.at = date
        }
        schedule.repeats = CampaignSchedule.Repeat(rawValue: form["repeats"] ?? "")
        let cron = (form["cron"] ?? "").trimmingCharacters(in: .whitespaces)
        schedule.cron = cron.isEmpty ? nil : cron
        schedule.recipientTimeZone = form.flag("recipientTimeZone")
        draft.schedule = schedule
        let lines = (form["variants"] ?? "").split(whereSeparator: \.isNewline).map { $0.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }
        draft.variants = lines.filter { !($0.first ?? "").isEmpty }.map { CampaignVariant(id: $0[0], subject: $0.count > 1 && !$0[1].isEmpty ? $0[1] : nil,
                                                                                          fromName: $0.count > 2 && !$0[2].isEmpty ? $0[2] : nil) }
        if let share = try form.optionalInt("testShare"), !(draft.variants ?? []).isEmpty {
            let conversionEvent = (form["conversionEvent"] ?? "").trimmingCharacters(in: .whitespaces)
            draft.test = SplitTest(share: Double(share) / 100, metric: SplitTest.Metric(rawValue: form["metric"] ?? "") ?? .opens,
                                   waitMinutes: try form.optionalInt("testWait") ?? 240, conversionEvent: conversionEvent.isEmpty ? nil : conversionEvent)
        }
        return draft
    }

    @Sendable func updateFromForm(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let identity = try context.requireIdentity()
        let form = try await FormData.read(request, context: context)
        do {
            let current = try await campaigns.campaign(id, for: identity)
            _ = try await campaigns.update(id, try draft(from: form, current: current), by: identity)
        } catch let error as InvalidInput {
            return try await campaignResponse(id, context: context, extra: ["error": renderer.message(error.key, error.arguments, context: context)], status: .unprocessableContent)
        }
        return .redirect(to: "/campaigns/\(id)?notice=saved", type: .normal)
    }

    @Sendable func actionFromForm(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let identity = try context.requireIdentity()
        let form = try await FormData.read(request, context: context)
        do {
            switch try context.parameters.require("action") {
            case "launch":
                let current = try await campaigns.campaign(id, for: identity)
                let at = (form["at"] ?? "").isEmpty ? nil : Self.parseLocal(form["at"]!, zone: current.schedule.timeZone)
                _ = try await campaigns.launch(id, at: at, by: identity)
            case "pause": _ = try await campaigns.pause(id, by: identity)
            case "resume": _ = try await campaigns.resume(id, by: identity)
            case "cancel": _ = try await campaigns.cancel(id, by: identity)
            case "delete":
                try await campaigns.delete(id, by: identity)
                return .redirect(to: "/campaigns?notice=deleted", type: .normal)
            default: throw ObjectNotFound("page", id)
            }
        } catch let error as InvalidInput {
            return try await campaignResponse(id, context: context, extra: ["error": renderer.message(error.key, error.arguments, context: context)], status: .unprocessableContent)
        }
        return .redirect(to: "/campaigns/\(id)?notice=saved", type: .normal)
    }

    @Sendable func calendarPage(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        calendar.firstWeekday = 2
        let monthText = request.uri.queryParameters["month"].map(String.init) ?? ""
        let parsed = Self.parseLocal(monthText + "-01T00:00", zone: "UTC")
        let start = calendar.date(from: calendar.dateComponents([.year, .month], from: parsed ?? Date()))!
        let weekMode = request.uri.queryParameters["view"] == "week"
        let from: Date, to: Date
        if weekMode {
            let week = calendar.dateInterval(of: .weekOfYear, for: parsed ?? Date())!
            (from, to) = (week.start, week.end)
        } else {
            let grid = calendar.dateInterval(of: .weekOfYear, for: start)!.start
            from = grid
            to = calendar.date(byAdding: .day, value: 42, to: grid)!
        }
        let entries = try await campaigns.calendar(from: from, to: to, for: identity)
        var days: [[String: Any]] = []
        var day = from
        let month = calendar.component(.month, from: start)
        let dayFormat = Date.FormatStyle().year().month(.twoDigits).day(.twoDigits).locale(Locale(identifier: "en_US_POSIX"))
        while day < to {
            let next = calendar.date(byAdding: .day, value: 1, to: day)!
            days.append([
                "date": day.formatted(dayFormat), "day": calendar.component(.day, from: day), "other": !weekMode && calendar.component(.month, from: day) != month,
                "weekStart": calendar.component(.weekday, from: day) == 2,
                "entries": entries.filter { $0.at >= day && $0.at < next }.map { ["id": $0.campaignId, "name": $0.name, "status": $0.status, "planned": $0.planned,
                                                                                    "time": Self.localInput($0.at, zone: "UTC").suffix(5)] },
            ])
            day = next
        }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = .gmt
        f.dateFormat = "yyyy-MM"
        let weeks = stride(from: 0, to: days.count, by: 7).map { ["days": Array(days[$0..<min($0 + 7, days.count)])] }
        return renderer.page("calendar", title: "campaigns.calendar", values: [
            "weeks": weeks, "month": f.string(from: start), "previous": f.string(from: calendar.date(byAdding: .month, value: -1, to: start)!),
            "next": f.string(from: calendar.date(byAdding: .month, value: 1, to: start)!), "weekMode": weekMode,
        ], context: context, active: "campaigns")
    }

    // MARK: API

    struct CampaignView: Encodable {
        let id: String, name: String, kind: String, status: String, databaseId: String, segmentId: String?, resource: String, templateId: String
        let variants: [CampaignVariant], test: SplitTest?, schedule: CampaignSchedule, observers: [String], limits: SendingLimits, policies: SendingPolicies
        let ipPool: String, triggerEvent: String?, lastRunId: String?, createdAt: Date, updatedAt: Date, updatedBy: String
        init(_ c: Campaign) {
            id = c._id; name = c.name; kind = c.kind.rawValue; status = c.status.rawValue; databaseId = c.databaseId; segmentId = c.segmentId; resource = c.resource
            templateId = c.templateId; variants = c.variants; test = c.test; schedule = c.schedule; observers = c.observers; limits = c.limits; policies = c.policies
            ipPool = c.ipPool; triggerEvent = c.triggerEvent; lastRunId = c.lastRunId; createdAt = c.createdAt; updatedAt = c.updatedAt; updatedBy = c.updatedBy
        }
    }

    @Sendable func apiList(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(["items": try await campaigns.list(for: try context.requireIdentity()).map(CampaignView.init)])
    }

    @Sendable func apiCreate(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try context.requireIdentity().require(.campaigns, .create)
        let draft = try await JSONBody.decode(CampaignService.Draft.self, from: request)
        return try JSONBody.response(CampaignView(try await campaigns.create(draft, by: try context.requireIdentity())), status: .created)
    }

    @Sendable func apiGet(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(CampaignView(try await campaigns.campaign(try context.parameters.require("id"), for: try context.requireIdentity())))
    }

    @Sendable func apiUpdate(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try context.requireIdentity().require(.campaigns, .edit)
        let draft = try await JSONBody.decode(CampaignService.Draft.self, from: request)
        return try JSONBody.response(CampaignView(try await campaigns.update(try context.parameters.require("id"), draft, by: try context.requireIdentity())))
    }

    @Sendable func apiDelete(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await campaigns.delete(try context.parameters.require("id"), by: try context.requireIdentity())
        return Response(status: .noContent)
    }

    struct ReportView: Encodable { let campaign: CampaignView, runs: [CampaignService.RunReport] }

    @Sendable func apiReport(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let (campaign, runs) = try await campaigns.report(try context.parameters.require("id"), for: try context.requireIdentity())
        return try JSONBody.response(ReportView(campaign: CampaignView(campaign), runs: runs))
    }

    @Sendable func apiCalendar(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let iso = ISO8601DateFormatter()
        let from = request.uri.queryParameters["from"].flatMap { iso.date(from: String($0)) } ?? Date().addingTimeInterval(-30 * 86_400)
        let to = request.uri.queryParameters["to"].flatMap { iso.date(from: String($0)) } ?? Date().addingTimeInterval(30 * 86_400)
        guard to > from, to.timeIntervalSince(from) <= 400 * 86_400 else {
            throw APIError(.badRequest, code: "invalid_field", message: "give from < to, at most 400 days apart (ISO 8601)", field: "to")
        }
        return try JSONBody.response(["items": try await campaigns.calendar(from: from, to: to, for: try context.requireIdentity())])
    }

    struct LaunchBody: Decodable { let at: Date? }

    @Sendable func apiLaunch(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try context.requireIdentity().require(.campaigns, .send)
        let body = (try? await JSONBody.decode(LaunchBody.self, from: request)) ?? LaunchBody(at: nil)
        return try JSONBody.response(CampaignView(try await campaigns.launch(try context.parameters.require("id"), at: body.at, by: try context.requireIdentity())))
    }

    @Sendable func apiPause(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(CampaignView(try await campaigns.pause(try context.parameters.require("id"), by: try context.requireIdentity())))
    }

    @Sendable func apiResume(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(CampaignView(try await campaigns.resume(try context.parameters.require("id"), by: try context.requireIdentity())))
    }

    @Sendable func apiCancel(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try JSONBody.response(CampaignView(try await campaigns.cancel(try context.parameters.require("id"), by: try context.requireIdentity())))
    }

    struct SendAnswer: Encodable { let messageId: String }

    /// A triggered campaign's message to one profile, at once (`data` becomes template variables).
    @Sendable func apiSend(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try context.requireIdentity().require(.campaigns, .send)
        let buffer = try await request.body.collect(upTo: 1 << 20)
        guard let body = try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any] else {
            throw APIError(.badRequest, code: "invalid_json", message: "send an object: {\"email\" or \"profileId\", \"data\": {…}}")
        }
        var data: [String: TemplateValue] = [:]
        if let fields = body["data"] as? [String: Any] {
            for (key, value) in fields { data[key] = TemplateData.json(value) }
        } else if let value = body["data"], !(value is NSNull) {
            throw APIError(.badRequest, code: "invalid_field", message: "'data' is an object of template variables", field: "data")
        }
        guard body["profileId"] is String || body["email"] is String else {
            throw APIError(.badRequest, code: "missing_field", message: "give the recipient's 'email' or 'profileId'", field: "email")
        }
        let id = try await campaigns.sendTriggered(try context.parameters.require("id"), profileId: body["profileId"] as? String, email: body["email"] as? String, data: data,
                                                   by: try context.requireIdentity())
        return try JSONBody.response(SendAnswer(messageId: id), status: .accepted)
    }
}
