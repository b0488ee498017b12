import AMQP
import Configuration
import Foundation
import Hummingbird
import Logging
import Metrics
import Mongo
import Prometheus
import ServiceLifecycle

/// Builds and runs one Herald executable: configuration, logging, metrics, the clients, the HTTP
/// server with `/health`, `/ready` and `/metrics`, in one `ServiceGroup` that shuts down
/// gracefully on SIGTERM and SIGINT.
public enum HeraldService {
    public static let version = "0.1.0"

    /// Runs the service until it is told to stop.
    ///
    /// - Parameters:
    ///   - descriptor: Which service this is.
    ///   - routes: Adds the service's own endpoints.
    ///   - services: The service's own long-running parts (consumers, pollers), started after the clients.
    public static func main(
        _ descriptor: ServiceDescriptor,
        routes: @Sendable (Router<BasicRequestContext>, ServiceContext) -> Void = { _, _ in },
        services: @Sendable (ServiceContext) -> [any Service] = { _ in [] }
    ) async {
        await main(descriptor, context: BasicRequestContext.self) { router, context in
            routes(router, context)
            return services(context)
        }
    }

    /// Runs the service with its own request context type. `setup` adds the endpoints and returns
    /// the service's own long-running parts; it may do I/O (load templates, open stores) and fail,
    /// which stops the process with the error logged.
    public static func main<Context: RequestContext>(
        _ descriptor: ServiceDescriptor,
        context: Context.Type,
        setup: @Sendable (Router<Context>, ServiceContext) async throws -> [any Service]
    ) async where Context.Source == ApplicationRequestContextSource {
        let configuration: HeraldConfiguration
        let reader: ConfigReader
        do {
            (configuration, reader) = try await HeraldConfiguration.load(for: descriptor)
        } catch {
            FileHandle.standardError.write(Data("\(descriptor.name): \(error)\n".utf8))
            exit(64)  // EX_USAGE
        }
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        var logger = Logger(label: "herald.\(descriptor.name)")
        logger[metadataKey: "service"] = "\(descriptor.name)"
        do {
            try await run(descriptor, context: Context.self, configuration: configuration, reader: reader, registry: registry, logger: logger, setup: setup)
        } catch let error as ConfigurationError {
            // A service's own settings, read during setup, fail like the common ones: exit 64.
            FileHandle.standardError.write(Data("\(descriptor.name): \(error)\n".utf8))
            exit(64)
        } catch {
            logger.critical("stopped by an error", metadata: ["error": "\(error)"])
            exit(1)
        }
    }

    static func run<Context: RequestContext>(
        _ descriptor: ServiceDescriptor, context _: Context.Type, configuration: HeraldConfiguration, reader: ConfigReader,
        registry: PrometheusCollectorRegistry, logger: Logger,
        setup: (Router<Context>, ServiceContext) async throws -> [any Service]
    ) async throws where Context.Source == ApplicationRequestContextSource {
        let settings = try MongoClient(uri: configuration.settingsMongoURI, applicationName: "herald-\(descriptor.name)",
                                       threadCount: configuration.mongoThreads, logger: logger)
        let customers = try MongoClient(uri: configuration.customersMongoURI, applicationName: "herald-\(descriptor.name)",
                                        threadCount: configuration.mongoThreads, logger: logger)
        let amqp = AMQPConnection(configuration: try AMQPConfiguration(url: configuration.amqpURL, connectionName: descriptor.name), logger: logger)
        let readiness = Readiness(names: [
            ("mongo_settings", settings.redactedURI),
            ("mongo_customers", customers.redactedURI),
            ("amqp", amqp.configuration.redactedURL),
        ])
        let context = ServiceContext(descriptor: descriptor, configuration: configuration, config: reader, settings: settings,
                                     customers: customers, amqp: amqp, readiness: readiness, logger: logger)

        let router = Router(context: Context.self)
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: APIErrorMiddleware())
        router.addRoutes(AdminController(service: descriptor.name, version: version, readiness: readiness, registry: registry).endpoints)
        let own = try await setup(router, context)

        let app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: "herald-\(descriptor.name)"),
            onServerRunning: { _ in
                logger.notice("listening", metadata: ["http.address": "\(configuration.httpHost):\(configuration.httpPort)", "http.role": "\(descriptor.httpRole)"])
            },
            logger: logger
        )
        let monitor = DependencyMonitor(readiness: readiness, settings: settings, customers: customers, amqp: amqp,
                                        interval: .milliseconds(Int64(configuration.readinessInterval * 1000)), logger: logger)
        let topology = BusDeclaration(amqp: amqp, topology: descriptor.topology, logger: logger)

        // Started in order, stopped in reverse: the HTTP server stops first, the stores last.
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: settings),
                    .init(service: customers),
                    .init(service: amqp),
                    .init(service: topology),
                    .init(service: monitor),
                ] + own.map { .init(service: $0) } + [.init(service: app)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        logger.info("starting", metadata: ["version": "\(version)", "mongo.settings": "\(settings.redactedURI)",
                                           "mongo.customers": "\(customers.redactedURI)", "amqp": "\(amqp.configuration.redactedURL)"])
        try await group.run()
        logger.info("stopped")
    }
}

