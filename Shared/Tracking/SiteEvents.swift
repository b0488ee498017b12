import Contracts
import Foundation
import Hummingbird
import HTTPTypes
import SwiftProtobuf

/// Site tracking: the snippet a customer puts on their site (`GET /js/herald.js`) and what it
/// sends (`POST /e`): page views, custom events, goals, and identification — when a visitor
/// logs in or fills a form, their identifier ties them to a profile, and job-server moves what
/// they did anonymously to that profile. The snippet keeps a random visitor id in a first-party
/// cookie of the site; with `data-consent="required"` on its script tag it stores and sends
/// nothing until the site calls `herald("consent", true)`, and `herald("consent", false)` forgets
/// the visitor.
public struct SiteEvents<Context: RequestContext>: Sendable {
    let signer: TrackingSigner
    let recorder: TrackingRecorder

    public init(signer: TrackingSigner, recorder: TrackingRecorder) {
        self.signer = signer
        self.recorder = recorder
    }

    public func addRoutes(to router: Router<Context>) {
        router.get("/js/herald.js", use: script)
        router.post("/e", use: collect)
        router.on("/e", method: .options, use: preflight)
    }

    static var cors: HTTPFields {
        [.accessControlAllowOrigin: "*", .accessControlAllowMethods: "POST, OPTIONS", .accessControlAllowHeaders: "Content-Type", .accessControlMaxAge: "86400"]
    }

    @Sendable func preflight(_ request: Request, context: Context) async throws -> Response {
        Response(status: .noContent, headers: Self.cors)
    }

    @Sendable func script(_ request: Request, context: Context) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/javascript; charset=utf-8", .cacheControl: "public, max-age=3600"],
                 body: .init(byteBuffer: ByteBuffer(string: SiteSnippet.script)))
    }

    struct Payload: Decodable {
        let site: String
        let visitor: String
        let identity: [String: String]?
        let events: [Item]

        struct Item: Decodable {
            let type: String
            let name: String?
            let url: String?
            let title: String?
            let referrer: String?
            let properties: [String: JSONScalar]?
        }
    }

    /// A property value as JSON gives it (text, number, boolean).
    enum JSONScalar: Decodable {
        case text(String), number(Double), flag(Bool)

        init(from decoder: any Swift.Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let flag = try? c.decode(Bool.self) { self = .flag(flag) } else if let number = try? c.decode(Double.self) { self = .number(number) } else { self = .text(try c.decode(String.self)) }
        }

        var value: Google_Protobuf_Value {
            switch self {
            case .text(let text): .init(stringValue: String(text.prefix(1000)))
            case .number(let number): .init(numberValue: number)
            case .flag(let flag): .init(boolValue: flag)
            }
        }
    }

    @Sendable func collect(_ request: Request, context: Context) async throws -> Response {
        let body = try await request.body.collect(upTo: 64 * 1024)
        guard let payload = try? JSONDecoder().decode(Payload.self, from: Data(buffer: body)),
              let site = try? signer.decode(payload.site), site.kind == .site,
              !payload.visitor.isEmpty, payload.visitor.count <= 64, payload.events.count <= 50
        else {
            return Response(status: .badRequest, headers: Self.cors, body: .init(byteBuffer: ByteBuffer(string: #"{"error":{"code":"invalid","message":"not a Herald site event: check the site key in the snippet"}}"#)))
        }
        // The identifier the visitor gave (the first known field), normalised as identifiers are;
        // or the profile that clicked a tracked link to this site (a signed token of the same database).
        var identifier: Herald_Events_V1_ActivityEvent.Identifier?
        var clicked: String?
        if let click = payload.identity?["click"], let token = try? signer.decode(click), token.kind == .identify,
           token.accountId == site.accountId, token.databaseId == site.databaseId {
            clicked = token.profileId
        } else if let identity = payload.identity, let (field, value) = identity.first(where: { SiteSnippet.identifierFields.contains($0.key) && !$0.value.isEmpty }) {
            var id = Herald_Events_V1_ActivityEvent.Identifier()
            id.field = field
            id.value = field == "email" ? value.trimmingCharacters(in: .whitespaces).lowercased() : value.trimmingCharacters(in: .whitespaces)
            identifier = id
        }
        for item in payload.events {
            let kind: String
            switch item.type {
            case "page_view": kind = "site.page_view"
            case "goal": kind = "goal.reached"
            case "identify": kind = "site.identified"
            case "event":
                let name = (item.name ?? "").lowercased().replacingOccurrences(of: " ", with: "_")
                guard !name.isEmpty, name.count <= 48, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { continue }
                kind = "site." + name
            default: continue
            }
            var fields: [String: Google_Protobuf_Value] = ["visitor": .init(stringValue: payload.visitor)]
            if let url = item.url { fields["url"] = .init(stringValue: String(url.prefix(2000))) }
            if let title = item.title { fields["title"] = .init(stringValue: String(title.prefix(300))) }
            if let referrer = item.referrer, !referrer.isEmpty { fields["referrer"] = .init(stringValue: String(referrer.prefix(2000))) }
            if item.type == "goal", let name = item.name { fields["goal"] = .init(stringValue: String(name.prefix(100))) }
            for (key, value) in (item.properties ?? [:]).prefix(30) where fields[key] == nil && key.count <= 64 { fields[key] = value.value }
            if let agent = request.headers[.userAgent] { fields["agent"] = .init(stringValue: String(agent.prefix(300))) }
            var event = Herald_Events_V1_ActivityEvent()
            event.meta = .new(account: site.accountId, producer: "tracker")
            event.databaseID = site.databaseId
            if let clicked { event.profileID = clicked } else if let identifier { event.identifier = identifier }
            event.kind = kind
            event.source = "site"
            event.properties = Google_Protobuf_Struct(fields: fields)
            recorder.record(event, account: site.accountId)
        }
        return Response(status: .noContent, headers: Self.cors)
    }
}
