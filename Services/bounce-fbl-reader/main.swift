import BounceReading
import Hummingbird
import ServiceSupport
import Tracking

// bounce-fbl-reader: POP3 bounce and feedback-loop mailboxes, DSN and ARF, the stop list.
await HeraldService.main(.bounceFBLReader, context: BasicRequestContext.self) { _, context in
    let settings = context.settings.database(context.configuration.settingsDatabase)
    let secret = context.config.string(forKey: "tracking.secret", default: "")
    guard secret.utf8.count >= 32 else {
        throw ConfigurationError(key: "tracking.secret", message: "give the secret that signs VERP return paths, at least 32 characters (the same as the tracker's and mta-sender's)")
    }
    let processor = BounceProcessor(signer: TrackingSigner(secret: secret), amqp: context.amqp, settings: settings,
                                    softLimit: context.config.int(forKey: "bounces.soft.limit", default: 3), logger: context.logger)
    return [BounceMailboxReader(settings: settings, processor: processor, logger: context.logger)]
}
