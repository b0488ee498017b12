import CustomerData
import DataJobs
import ServiceSupport

// job-server: imports, exports, segment builds, campaign expansion, scenarios and syncs (HTTP 19888).
await HeraldService.main(.jobServer, services: { context in
    let settings = context.settings.database(context.configuration.settingsDatabase)
    let profiles = ProfileStore(database: context.customers.database(context.configuration.customersDatabase))
    let runner = ImportRunner(jobs: JobStore(database: settings), databases: settings.collection("profile_databases", of: ProfileDatabase.self),
                              writer: ProfileWriter(store: profiles), logger: context.logger)
    return [ImportJobConsumer(amqp: context.amqp, runner: runner, logger: context.logger)]
})
