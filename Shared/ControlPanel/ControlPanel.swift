import Foundation
import Hummingbird
import Logging
import AMQP
import Audiences
import CustomerData
import Mongo
import Security
import ServiceLifecycle
import ServiceSupport

/// `control`'s web panel and REST API: the stores, the security services and every route.
public struct ControlPanel: Sendable {
    public let store: SecurityStore
    public let authenticator: Authenticator
    public let administration: AccessAdministration
    public let audit: AuditLog
    public let renderer: PanelRenderer
    public let customers: CustomerDataService
    public let imports: ImportService
    public let exports: ExportService
    public let syncs: SyncService
    public let segments: SegmentService
    public let segmentSyncs: SegmentSyncService
    public let templates: TemplateService
    public let stopList: StopListService
    public let bounceMailboxes: BounceMailboxService
    public let campaigns: CampaignService
    public let delivery: DeliveryService
    public let promoCodes: PromoCodeService
    public let scenarioEntries: ScenarioEntryService
    let amqp: AMQPConnection?
    public let settings: Settings
    let logger: Logger

    /// `control.*` configuration (docs/configuration.md).
    public struct Settings: Sendable {
        /// `mongo.settings.database`: the settings store's database.
        public var database: String = "herald"
        /// `mongo.customers.database`: the customer-data store's database.
        public var customersDatabase: String = "herald"
        /// `control.bcrypt.cost`.
        public var bcryptCost: Int = 12
        /// `control.session.max.hours`: longest a session lives.
        public var sessionMaximumHours: Int = 12
        /// `control.cookies.secure`: mark cookies Secure (set it when the panel is served over TLS).
        public var secureCookies: Bool = false
        /// `control.audit.sweep.interval`: seconds between retention sweeps of the audit log.
        public var auditSweepInterval: Int = 3600
        /// `control.reset.password`: at start, give this local user a new one-time password (logged),
        /// unlock them and end their sessions: the runbook's way back in for a locked-out administrator.
        public var resetPasswordLogin: String = ""
        /// `control.demo.data`: on the first run, also create a demo profile database (`make run` sets it).
        public var demoData: Bool = false
        /// `control.import.max.megabytes`: the largest file an import accepts.
        public var importMaximumMegabytes: Int = 1024
        /// `tracking.secret`: signs the site keys of tracking snippets (empty: no snippets).
        public var trackingSecret: String = ""
        /// `tracking.url`: the tracker's public address, as sites and recipients reach it.
        public var trackingURL: String = "http://127.0.0.1:8081"

        public init() {}
    }

    /// Where the templates, catalogs, static files and the OpenAPI document are.
    public static var resources: URL { Bundle.module.bundleURL.appendingPathComponent("Resources") }

    public init(settingsClient: MongoClient, customersClient: MongoClient, amqp: AMQPConnection?, settings: Settings, logger: Logger) async throws {
        guard (4...31).contains(settings.bcryptCost) else {
            throw ConfigurationError(key: "control.bcrypt.cost", message: "\(settings.bcryptCost) is out of range; use 4 to 31 (12 is the default)")
        }
        store = SecurityStore(database: settingsClient.database(settings.database))
        let hasher = PasswordHasher(cost: settings.bcryptCost)
        audit = AuditLog(store: store, logger: logger)
        authenticator = Authenticator(store: store, hasher: hasher, audit: audit, sessionMaximumAge: Double(settings.sessionMaximumHours) * 3600, logger: logger)
        administration = AccessAdministration(store: store, hasher: hasher, audit: audit, authenticator: authenticator)
        renderer = try await PanelRenderer(resources: Self.resources)
        customers = CustomerDataService(settings: settingsClient.database(settings.database), customers: customersClient.database(settings.customersDatabase),
                                        audit: audit)
        self.amqp = amqp
        imports = ImportService(settings: settingsClient.database(settings.database), customers: customers, amqp: amqp, audit: audit,
                                maximumSize: Int64(settings.importMaximumMegabytes) << 20)
        exports = ExportService(jobs: imports.jobs, customers: customers, amqp: amqp, audit: audit)
        syncs = SyncService(jobs: imports.jobs, customers: customers, audit: audit)
        segments = SegmentService(settings: settingsClient.database(settings.database), customersStore: customersClient.database(settings.customersDatabase),
                                  customers: customers, audit: audit)
        segmentSyncs = SegmentSyncService(jobs: imports.jobs, segments: segments, audit: audit)
        templates = TemplateService(settings: settingsClient.database(settings.database), customers: customers, audit: audit)
        stopList = StopListService(settings: settingsClient.database(settings.database), audit: audit)
        bounceMailboxes = BounceMailboxService(settings: settingsClient.database(settings.database), audit: audit)
        campaigns = CampaignService(settings: settingsClient.database(settings.database), customersStore: customersClient.database(settings.customersDatabase),
                                    templates: templates, segments: segments, customers: customers, amqp: amqp, audit: audit,
                                    trackingSecret: settings.trackingSecret, trackerURL: settings.trackingURL)
        delivery = DeliveryService(settings: settingsClient.database(settings.database), amqp: amqp, audit: audit)
        promoCodes = PromoCodeService(customers: customersClient.database(settings.customersDatabase), customerData: customers, audit: audit)
        scenarioEntries = ScenarioEntryService(settings: settingsClient.database(settings.database), customers: customers, amqp: amqp, audit: audit)
        self.settings = settings
        self.logger = logger
    }

    public static func settings(from context: ServiceContext) throws -> Settings {
        var settings = Settings()
        let config = context.config
        settings.database = context.configuration.settingsDatabase
        settings.customersDatabase = context.configuration.customersDatabase
        settings.bcryptCost = config.int(forKey: "control.bcrypt.cost", default: settings.bcryptCost)
        settings.sessionMaximumHours = config.int(forKey: "control.session.max.hours", default: settings.sessionMaximumHours)
        settings.secureCookies = config.bool(forKey: "control.cookies.secure", default: settings.secureCookies)
        settings.auditSweepInterval = config.int(forKey: "control.audit.sweep.interval", default: settings.auditSweepInterval)
        settings.resetPasswordLogin = config.string(forKey: "control.reset.password", default: "").lowercased()
        settings.importMaximumMegabytes = config.int(forKey: "control.import.max.megabytes", default: settings.importMaximumMegabytes)
        settings.demoData = config.bool(forKey: "control.demo.data", default: false)
        settings.trackingSecret = config.string(forKey: "tracking.secret", default: "")
        settings.trackingURL = config.string(forKey: "tracking.url", default: settings.trackingURL)
        if !settings.trackingSecret.isEmpty, settings.trackingSecret.utf8.count < 32 {
            throw ConfigurationError(key: "tracking.secret", message: "at least 32 characters (openssl rand -base64 48)")
        }
        guard settings.trackingURL.hasPrefix("http://") || settings.trackingURL.hasPrefix("https://") else {
            throw ConfigurationError(key: "tracking.url", message: "the tracker's public address, https://track.example.com")
        }
        guard (1...65536).contains(settings.importMaximumMegabytes) else {
            throw ConfigurationError(key: "control.import.max.megabytes", message: "use 1 to 65536")
        }
        guard settings.auditSweepInterval >= 60 else {
            throw ConfigurationError(key: "control.audit.sweep.interval", message: "use at least 60 seconds")
        }
        guard (1...720).contains(settings.sessionMaximumHours) else {
            throw ConfigurationError(key: "control.session.max.hours", message: "use 1 to 720 hours")
        }
        return settings
    }

    /// Adds the middleware and every route of the panel and the API.
    public func addRoutes(to router: Router<PanelRequestContext>) {
        let resources = Self.resources
        router.add(middleware: FileMiddleware(resources.appendingPathComponent("Static").path, urlBasePath: "/static/herald",
                                              cacheControl: .init([(MediaType(type: .any), [.maxAge(3600)])]), logger: logger).withServeOnNotFoundResponse())
        for (name, folder) in Self.vendorAssets {
            router.add(middleware: FileMiddleware(folder, urlBasePath: "/static/vendor/\(name)",
                                                  cacheControl: .init([(MediaType(type: .any), [.maxAge(86400)])]), logger: logger).withServeOnNotFoundResponse())
        }
        router.add(middleware: PanelErrorMiddleware(renderer: renderer))
        router.add(middleware: AuthenticationMiddleware(authenticator: authenticator, catalogs: renderer.catalogs, secureCookies: settings.secureCookies))
        LoginController(authenticator: authenticator, administration: administration, renderer: renderer, secureCookies: settings.secureCookies).addRoutes(to: router)
        HomeController(administration: administration, renderer: renderer).addRoutes(to: router)
        UsersController(administration: administration, renderer: renderer).addRoutes(to: router)
        RolesController(administration: administration, renderer: renderer).addRoutes(to: router)
        GroupsController(administration: administration, renderer: renderer).addRoutes(to: router)
        SettingsController(administration: administration, renderer: renderer).addRoutes(to: router)
        TokensController(administration: administration, renderer: renderer).addRoutes(to: router)
        AuditController(audit: audit, renderer: renderer).addRoutes(to: router)
        DatabasesController(customers: customers, renderer: renderer, tracking: settings).addRoutes(to: router)
        ProfilesController(customers: customers, segments: segments, campaigns: campaigns, promoCodes: promoCodes, scenarioEntries: scenarioEntries,
                           renderer: renderer).addRoutes(to: router)
        PromoCodesController(promoCodes: promoCodes, renderer: renderer).addRoutes(to: router)
        ImportsController(imports: imports, customers: customers, segments: segments, renderer: renderer).addRoutes(to: router)
        EventsController(customers: customers, amqp: amqp).addRoutes(to: router)
        ExportsController(exports: exports, customers: customers, segments: segments, renderer: renderer).addRoutes(to: router)
        SyncsController(syncs: syncs, imports: imports, customers: customers, renderer: renderer).addRoutes(to: router)
        SegmentsController(segments: segments, syncs: segmentSyncs, customers: customers, renderer: renderer).addRoutes(to: router)
        TemplatesController(templates: templates, customers: customers, renderer: renderer).addRoutes(to: router)
        StopListController(stopList: stopList, renderer: renderer).addRoutes(to: router)
        BounceMailboxesController(mailboxes: bounceMailboxes, renderer: renderer).addRoutes(to: router)
        CampaignsController(campaigns: campaigns, templates: templates, segments: segments, customers: customers, renderer: renderer).addRoutes(to: router)
        DeliveryController(delivery: delivery, renderer: renderer).addRoutes(to: router)
        let document = (try? Data(contentsOf: resources.appendingPathComponent("openapi.json"))) ?? Data("{}".utf8)
        APIDocsController(document: document, renderer: renderer).addRoutes(to: router)
    }

    /// `control.reset.password`: a new one-time password for a local user, printed to the log.
    func resetPassword(of login: String) async throws {
        guard var user = try await store.users.findOne(["login": .string(login)]) else {
            logger.error("control.reset.password: there is no user with this login", metadata: ["login": "\(login)"])
            return
        }
        guard user.source == .local else {
            logger.error("control.reset.password: this user logs in through LDAP; reset the password in the directory", metadata: ["login": "\(login)"])
            return
        }
        let password = AccessAdministration.oneTimePassword()
        user.passwordHash = try await PasswordHasher(cost: settings.bcryptCost).hash(password)
        user.mustChangePassword = true
        user.passwordChangedAt = Date()
        user.failedLogins = 0
        user.lockedUntil = nil
        _ = try await store.users.replaceOne(filter: ["_id": .string(user._id)], replacement: user)
        try await authenticator.endSessions(of: user._id)
        try await audit.record(Actor.system(user.accountId), "user.password_reset", kind: "user", id: user._id, name: user.login,
                               changes: [.init(field: "by", before: nil, after: "control.reset.password")])
        logger.notice("control.reset.password: new one-time password; remove the setting and restart", metadata: [
            "login": "\(login)", "one_time_password": "\(password)",
        ])
    }

    /// Front-end libraries from Debian's packages (installed by deploy/dev/install.sh), served by
    /// `control` itself: no CDN, nothing fetched at run time.
    static let vendorAssets: [(String, String)] = [
        ("bootstrap", "/usr/share/javascript/bootstrap5"),
        ("chart.js", "/usr/share/javascript/chart.js"),
        ("codemirror", "/usr/share/javascript/codemirror"),
        ("sortable", "/usr/share/javascript/sortable"),
    ]

    /// Creates the indexes and, on an installation without users, the first account and its
    /// administrator, whose one-time password goes to the log.
    public func bootstrap() async throws {
        try await store.prepare()
        try await customers.prepare()
        try await imports.jobs.prepare()
        try await segments.prepare()
        try await templates.prepare()
        try await stopList.prepare()
        try await promoCodes.prepare()
        try await scenarioEntries.prepare()
        try await campaigns.prepare()
        if !settings.resetPasswordLogin.isEmpty { try await resetPassword(of: settings.resetPasswordLogin) }
        guard try await store.users.countDocuments() == 0 else { return }
        do {
            let (account, admin, password) = try await administration.createAccount(name: "Main", adminLogin: "admin", platformAdmin: true, by: nil)
            if settings.demoData { try await DemoData.create(in: account, customers: customers) }
            logger.notice("first run: created account '\(account.name)' and its administrator; log in and choose a new password",
                          metadata: ["login": "\(admin.login)", "one_time_password": "\(password)"])
        } catch let error as InvalidInput where error.key == "login_taken" {
            // Another control instance bootstrapped at the same moment.
        }
    }
}
