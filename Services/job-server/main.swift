import CustomerData
import DataJobs
import ServiceSupport

// job-server: imports, exports, segment builds, campaign expansion, scenarios and syncs (HTTP 19888).
await HeraldService.main(.jobServer, services: { context in
    let settings = context.settings.database(context.configuration.settingsDatabase)
    let databases = settings.collection("profile_databases", of: ProfileDatabase.self)
    let writer = ProfileWriter(store: ProfileStore(database: context.customers.database(context.configuration.customersDatabase)))
    let jobs = JobStore(database: settings)
    let runner = ImportRunner(jobs: jobs, databases: databases, writer: writer, logger: context.logger)
    let exporter = ExportRunner(jobs: jobs, databases: databases, profiles: writer.store, logger: context.logger)
    return [
        JobRequestConsumer.imports(amqp: context.amqp, runner: runner, logger: context.logger),
        JobRequestConsumer.exports(amqp: context.amqp, runner: exporter, logger: context.logger),
        SQLSyncScheduler(runner: runner, segmentRunner: SegmentSyncRunner(jobs: jobs, databases: databases, profiles: writer.store, logger: context.logger),
                         logger: context.logger),
        ActivityWriter(amqp: context.amqp, databases: databases, writer: writer, logger: context.logger),
    ]
})
