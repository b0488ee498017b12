import Campaigns
import Foundation
import Hummingbird
import ServiceSupport
import Tracking

// tracker: links, opens, unsubscribe, web versions, web pixel, site events and forms, on its own address.
await HeraldService.main(.tracker, context: BasicRequestContext.self) { router, context in
    let secret = context.config.string(forKey: "tracking.secret", default: "")
    guard secret.utf8.count >= 32 else {
        throw ConfigurationError(key: "tracking.secret", message: "give the secret that signs tracking links, at least 32 characters (the same in every tracker, control and mta-sender)")
    }
    let directory = context.config.string(forKey: "tracker.spool.directory", default: "/var/spool/herald/tracker")
    let spool: EventSpool
    do {
        spool = try EventSpool(directory: URL(fileURLWithPath: directory))
    } catch {
        throw ConfigurationError(key: "tracker.spool.directory", message: "'\(directory)' cannot be created or written: \(error)")
    }
    let recorder = TrackingRecorder(amqp: context.amqp, spool: spool, logger: context.logger)
    let signer = TrackingSigner(secret: secret)
    TrackerEndpoints<BasicRequestContext>(signer: signer, recorder: recorder, logger: context.logger).addRoutes(to: router)
    SiteEvents<BasicRequestContext>(signer: signer, recorder: recorder).addRoutes(to: router)
    // The web version of a message: rendered again from its sending's content (docs/tracking.md).
    let web = WebVersion(settings: context.settings.database(context.configuration.settingsDatabase),
                         customers: context.customers.database(context.configuration.customersDatabase),
                         signer: signer, trackerURL: context.config.string(forKey: "tracking.url", default: "http://127.0.0.1:8081"))
    router.get("/w/:token") { _, request -> Response in
        guard let text = request.parameters.get("token"), let token = try? signer.decode(text), token.kind == .webVersion,
              let html = try await web.html(for: token) else {
            return TrackerEndpoints<BasicRequestContext>.page(status: .notFound, title: "This message is not available",
                                                              text: "The link is damaged, or the message is no longer kept. The message in your mailbox is the same.")
        }
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "private, no-store",
                                               .init("Referrer-Policy")!: "no-referrer", .init("X-Robots-Tag")!: "noindex"],
                        body: .init(byteBuffer: ByteBuffer(string: html)))
    }
    return [recorder]
}
