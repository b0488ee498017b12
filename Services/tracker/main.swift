import Foundation
import Hummingbird
import ServiceSupport
import Tracking

// tracker: links, opens, unsubscribe, web pixel, site events and forms, on its own address.
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
    return [recorder]
}
