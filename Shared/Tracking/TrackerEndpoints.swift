import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SwiftProtobuf

/// The tracker's public endpoints, on their own address:
///
/// - `GET /c/{token}`: a click; 302 to the signed destination at once, then recorded. A forged,
///   altered or unknown token gets an error page and redirects nowhere.
/// - `GET /o/{token}.gif`: an open; a 1×1 GIF, machine opens flagged (``OpenClassifier``).
/// - `GET /u/{token}`: the unsubscribe page (a reason, and every newsletter or only this one);
///   `POST /u/{token}`: the page's answer, or RFC 8058's one-click (`List-Unsubscribe=One-Click`),
///   idempotent, needing no cookie or redirect.
///
/// Everything recorded goes to the bus through ``TrackingRecorder`` (spooled when the broker is down).
public struct TrackerEndpoints<Context: RequestContext>: Sendable {
    let signer: TrackingSigner
    let recorder: TrackingRecorder
    let logger: Logger

    public init(signer: TrackingSigner, recorder: TrackingRecorder, logger: Logger) {
        self.signer = signer
        self.recorder = recorder
        self.logger = logger
    }

    public func addRoutes(to router: Router<Context>) {
        router.get("/c/:token", use: click)
        router.get("/o/:token", use: open)
        router.get("/u/:token", use: unsubscribePage)
        router.post("/u/:token", use: unsubscribe)
    }

    /// The transparent 1×1 GIF.
    static var pixel: [UInt8] { [0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x21, 0xF9, 0x04,
                                 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B] }

    func token(_ context: Context, kind: TrackingToken.Kind) -> TrackingToken? {
        guard var text = context.parameters.get("token") else { return nil }
        if kind == .open, text.hasSuffix(".gif") { text.removeLast(4) }
        guard let token = try? signer.decode(text), token.kind == kind else { return nil }
        return token
    }

    @Sendable func click(_ request: Request, context: Context) async throws -> Response {
        guard let token = token(context, kind: .click), Self.isWebAddress(token.url) else {
            return Self.page(status: .notFound, title: "This link is not valid",
                             text: "The link you followed is damaged or was not made by this sender, so it leads nowhere. Copy the address from the message again, or contact the sender.")
        }
        let agent = request.headers[.userAgent] ?? ""
        let verdict = OpenClassifier.classify(userAgent: agent, address: Self.client(request))
        record(token, kind: "message.clicked", properties: ["url": .init(stringValue: token.url), "link": .init(numberValue: Double(token.linkIndex)),
                                                              "machine": .init(boolValue: verdict != .human), "agent": .init(stringValue: String(agent.prefix(300)))])
        return Response(status: .found, headers: [.location: Self.destination(token, signer: signer), .cacheControl: "no-store",
                                                  HTTPField.Name("Referrer-Policy")!: "no-referrer"])
    }

    /// The link's address with `hrld=<identify token>` added, which the Herald snippet on the landing
    /// page reads to tie its visitor to the profile that clicked (and then removes from the address
    /// bar). Any fragment stays last.
    static func destination(_ token: TrackingToken, signer: TrackingSigner) -> String {
        let who = signer.encode(TrackingToken(kind: .identify, accountId: token.accountId, databaseId: token.databaseId, messageId: token.messageId,
                                              profileId: token.profileId))
        var url = token.url
        var fragment = ""
        if let hash = url.firstIndex(of: "#") {
            fragment = String(url[hash...])
            url = String(url[..<hash])
        }
        return url + (url.contains("?") ? "&" : "?") + "hrld=" + who + fragment
    }

    @Sendable func open(_ request: Request, context: Context) async throws -> Response {
        let headers: HTTPFields = [.contentType: "image/gif", .cacheControl: "no-store, no-cache, must-revalidate, max-age=0", HTTPField.Name("Pragma")!: "no-cache"]
        if let token = token(context, kind: .open) {
            let agent = request.headers[.userAgent] ?? ""
            let verdict = OpenClassifier.classify(userAgent: agent, address: Self.client(request))
            record(token, kind: "message.opened", properties: ["machine": .init(boolValue: verdict != .human), "verdict": .init(stringValue: verdict.rawValue),
                                                                 "agent": .init(stringValue: String(agent.prefix(300)))])
        }
        // A broken pixel still answers with the image: a mail client shows nothing either way.
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: Self.pixel)))
    }

    @Sendable func unsubscribePage(_ request: Request, context: Context) async throws -> Response {
        guard let text = context.parameters.get("token"), let token = token(context, kind: .unsubscribe) else { return Self.invalidUnsubscribe }
        let escapedAddress = Self.escape(token.address)
        let resource = token.resource.isEmpty ? "" : """
            <label><input type="radio" name="scope" value="resource" checked> Only “\(Self.escape(token.resource))”</label><br>
            <label><input type="radio" name="scope" value="all"> Everything from this sender</label>
            """
        return Self.page(status: .ok, title: "Unsubscribe", text: "Stop messages to \(escapedAddress)?", html: """
            <form method="post" action="/u/\(Self.escape(text))">
            \(resource.isEmpty ? "<input type=\"hidden\" name=\"scope\" value=\"all\">" : "<p>\(resource)</p>")
            <p><label for="reason">Why (optional)</label><br><select id="reason" name="reason">
            <option value="">—</option><option value="too_often">Too many messages</option><option value="not_relevant">Not interesting to me</option>
            <option value="never_subscribed">I never subscribed</option><option value="other">Something else</option></select></p>
            <p><button type="submit">Unsubscribe</button></p></form>
            """)
    }

    @Sendable func unsubscribe(_ request: Request, context: Context) async throws -> Response {
        guard let token = token(context, kind: .unsubscribe) else { return Self.invalidUnsubscribe }
        let body = String(buffer: try await request.body.collect(upTo: 16_384))
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0) }
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        let oneClick = fields["List-Unsubscribe"] == "One-Click"
        let scope = oneClick ? (token.resource.isEmpty ? "all" : "resource") : (fields["scope"] == "resource" ? "resource" : "all")
        record(token, kind: "message.unsubscribed", properties: [
            "channel": .init(stringValue: token.channel), "address": .init(stringValue: token.address),
            "resource": .init(stringValue: scope == "resource" ? token.resource : ""), "scope": .init(stringValue: scope),
            "reason": .init(stringValue: String((fields["reason"] ?? "").prefix(64))), "method": .init(stringValue: oneClick ? "one_click" : "page"),
        ])
        if oneClick { return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "Unsubscribed.\n"))) }
        return Self.page(status: .ok, title: "You are unsubscribed", text: "\(Self.escape(token.address)) will get no more of these messages. Changed your mind? Contact the sender.")
    }

    func record(_ token: TrackingToken, kind: String, properties: [String: Google_Protobuf_Value]) {
        var event = Herald_Events_V1_ActivityEvent()
        event.meta = .new(account: token.accountId, producer: "tracker")
        event.databaseID = token.databaseId
        event.profileID = token.profileId
        event.kind = kind
        event.source = "tracker"
        var fields = properties
        fields["message"] = .init(stringValue: token.messageId)
        event.properties = Google_Protobuf_Struct(fields: fields)
        recorder.record(event, account: token.accountId)
    }

    /// An http(s) address with a host: the only destinations a click goes to.
    static func isWebAddress(_ url: String) -> Bool {
        let lower = url.prefix(8).lowercased()
        let rest = lower.hasPrefix("https://") ? url.dropFirst(8) : lower.hasPrefix("http://") ? url.dropFirst(7) : nil
        guard let rest, let first = rest.first, first != "/", !url.contains(where: { $0 == "\r" || $0 == "\n" || $0 == " " }) else { return false }
        return true
    }

    static var invalidUnsubscribe: Response {
        page(status: .notFound, title: "This link is not valid", text: "The unsubscribe link is damaged. Use the link in the message again, or reply to the sender.")
    }

    /// The client's address: the first X-Forwarded-For hop (behind the TLS terminator), else the peer.
    static func client(_ request: Request) -> String {
        if let forwarded = request.headers[.init("X-Forwarded-For")!]?.split(separator: ",").first { return forwarded.trimmingCharacters(in: .whitespaces) }
        return ""
    }

    public static func page(status: HTTPResponse.Status, title: String, text: String, html: String = "") -> Response {
        let body = """
            <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>\(escape(title))</title>
            <style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#222;line-height:1.5}button{padding:.5rem 1rem}</style>
            </head><body><h1>\(escape(title))</h1><p>\(text)</p>\(html)</body></html>
            """
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
