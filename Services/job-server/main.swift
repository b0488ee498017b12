import Campaigns
import Content
import Hummingbird
import CustomerData
import DataJobs
import ServiceSupport
import Tracking

// job-server: imports, exports, segment builds, campaign expansion, scenarios and syncs (HTTP 19888).
await HeraldService.main(.jobServer, context: BasicRequestContext.self) { _, context in
    let settings = context.settings.database(context.configuration.settingsDatabase)
    let customers = context.customers.database(context.configuration.customersDatabase)
    let secret = context.config.string(forKey: "tracking.secret", default: "")
    guard secret.utf8.count >= 32 else {
        throw ConfigurationError(key: "tracking.secret", message: "give the secret that signs tracking links and VERP return paths, at least 32 characters (the same as the tracker's)")
    }
    let trackerURL = context.config.string(forKey: "tracking.url", default: "http://127.0.0.1:8081")
    let databases = settings.collection("profile_databases", of: ProfileDatabase.self)
    let writer = ProfileWriter(store: ProfileStore(database: customers))
    let jobs = JobStore(database: settings)
    let runner = ImportRunner(jobs: jobs, databases: databases, writer: writer, logger: context.logger)
    let exporter = ExportRunner(jobs: jobs, databases: databases, profiles: writer.store, logger: context.logger)
    let campaigns = CampaignRunner(settings: settings, customers: customers, amqp: context.amqp, signer: TrackingSigner(secret: secret),
                                   trackerURL: trackerURL, logger: context.logger)
    let store = CampaignStore(settings: settings, customers: customers)
    // Triggered campaigns that an event sends: told of every profile event the activity writer records.
    let triggers = CampaignTriggers(store: store, sender: TriggeredSend(store: store, library: TemplateLibrary(settings: settings), amqp: context.amqp,
                                                                     signer: TrackingSigner(secret: secret), trackerURL: trackerURL),
                                    profiles: writer.store, logger: context.logger)
    let activity = ActivityWriter(amqp: context.amqp, databases: databases, writer: writer, listener: { await triggers.handle($0) }, logger: context.logger)
    return [
        JobRequestConsumer.imports(amqp: context.amqp, runner: runner, logger: context.logger),
        JobRequestConsumer.exports(amqp: context.amqp, runner: exporter, logger: context.logger),
        JobRequestConsumer(amqp: context.amqp, queue: "jobs.campaign.launch", logger: context.logger, run: { try await campaigns.run(runId: $0) }),
        CampaignScheduler(store: store, amqp: context.amqp, logger: context.logger),
        SQLSyncScheduler(runner: runner, segmentRunner: SegmentSyncRunner(jobs: jobs, databases: databases, profiles: writer.store, logger: context.logger),
                         logger: context.logger),
        activity,
        MessageOutcomeWriter(amqp: context.amqp, sends: store.sends, activity: activity, logger: context.logger),
    ]
}
