import AMQP
import ControlPanel
import Contracts
import CustomerData
import DataJobs
import Foundation
import HeraldTesting
import Hummingbird
import HummingbirdTesting
import Logging
import Mongo
import Security
import Testing

/// One control panel in-process, on its own database of the real settings store (nx-27017 in
/// development and CI), with an account whose administrator has already chosen a password.
struct PanelHarness: @unchecked Sendable {
    // @unchecked Sendable: the router is only read (its route list) once the app is built.
    let client: MongoClient
    let panel: ControlPanel
    let router: Router<PanelRequestContext>
    let account: Account
    let admin: User
    static let adminPassword = "Admin-Passw0rd"

    /// With `imports`, the panel publishes import requests and activity to the real broker, and
    /// job-server's import worker and activity writer (in-process) take them from queues of this test's own.
    /// `trackingSecret` is control's `tracking.secret` (none by default, as on a fresh install).
    static func with(imports: Bool = false, trackingSecret: String = "", _ body: @escaping @Sendable (PanelHarness, any TestClientProtocol) async throws -> Void) async throws {
        var amqp: AMQPConnection?
        let queue = TestEnvironment.uniqueName("imports")
        if imports {
            let connection = AMQPConnection(configuration: try AMQPConfiguration(url: TestEnvironment.amqpURL, connectionName: "panel-tests"),
                                            logger: TestEnvironment.logger("amqp"))
            try await connection.waitUntilConnected()
            try await connection.declare(AMQPTopology(
                exchanges: [.init(BusExchange.jobs, kind: .direct), .init(BusExchange.events, kind: .topic)],
                queues: [.init(queue, durable: false, autoDelete: true), .init(queue + ".activity", durable: false, autoDelete: true),
                         .init(queue + ".export", durable: false, autoDelete: true)],
                bindings: [.init(queue: queue, exchange: BusExchange.jobs, routingKey: "import"),
                           .init(queue: queue + ".export", exchange: BusExchange.jobs, routingKey: "export"),
                           .init(queue: queue + ".activity", exchange: BusExchange.events, routingKey: "activity.#")]))
            amqp = connection
        }
        let client = try MongoClient(uri: TestEnvironment.settingsMongoURI, applicationName: "herald-tests", logger: TestEnvironment.logger("mongo"))
        let customers = try MongoClient(uri: TestEnvironment.customersMongoURI, applicationName: "herald-tests", logger: TestEnvironment.logger("mongo"))
        var settings = ControlPanel.Settings()
        settings.database = TestEnvironment.uniqueName("panel")
        settings.customersDatabase = TestEnvironment.uniqueName("customers")
        settings.bcryptCost = 4
        settings.trackingSecret = trackingSecret
        settings.trackingURL = "https://t.herald.test"
        let panel = try await ControlPanel(settingsClient: client, customersClient: customers, amqp: amqp, settings: settings, logger: TestEnvironment.logger("control"))
        try await panel.store.prepare()
        try await panel.customers.prepare()
        let (account, admin, _) = try await panel.administration.createAccount(name: "Alpha", adminLogin: "admin@alpha.test", platformAdmin: true, by: nil)
        try await Self.setPassword(adminPassword, for: admin, in: panel)
        let router = Router(context: PanelRequestContext.self)
        panel.addRoutes(to: router)
        let harness = PanelHarness(client: client, panel: panel, router: router, account: account, admin: admin)
        let worker = amqp.map { amqp in
            Task {
                let runner = ImportRunner(jobs: panel.imports.jobs, databases: panel.customers.databases, writer: panel.customers.writer,
                                          logger: TestEnvironment.logger("imports"))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await JobRequestConsumer.imports(amqp: amqp, queue: queue, runner: runner, logger: TestEnvironment.logger("imports")).run() }
                    group.addTask {
                        try await ActivityWriter(amqp: amqp, queue: queue + ".activity", databases: panel.customers.databases, writer: panel.customers.writer,
                                                 logger: TestEnvironment.logger("activity")).run()
                    }
                    group.addTask {
                        let exporter = ExportRunner(jobs: panel.imports.jobs, databases: panel.customers.databases, profiles: panel.customers.profiles,
                                                    logger: TestEnvironment.logger("exports"))
                        try await JobRequestConsumer.exports(amqp: amqp, queue: queue + ".export", runner: exporter, logger: TestEnvironment.logger("exports")).run()
                    }
                    try await group.waitForAll()
                }
            }
        }
        let app = Application(router: router)
        do {
            try await app.test(.router) { client in
                try await body(harness, client)
            }
        } catch {
            worker?.cancel()
            await amqp?.close()
            throw error
        }
        worker?.cancel()
        await amqp?.close()
    }

    /// Waits until an import has ended (the worker runs it), up to `timeout`.
    func waitForImport(_ id: String, timeout: Duration = .seconds(60)) async throws -> ImportJob {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            if let job = try await panel.imports.jobs.jobs.findOne(["_id": .string(id)]), job.state.isFinished { return job }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestServerError(message: "import \(id) did not end within \(timeout)")
    }

    /// Sets a password directly in the store, as if the user had chosen it.
    static func setPassword(_ password: String, for user: User, in panel: ControlPanel) async throws {
        var changed = try #require(try await panel.store.users.findOne(["_id": .string(user._id)]))
        changed.passwordHash = try await PasswordHasher(cost: 4).hash(password)
        changed.mustChangePassword = false
        changed.passwordChangedAt = Date()
        _ = try await panel.store.users.replaceOne(filter: ["_id": .string(user._id)], replacement: changed)
    }

    /// A second account with its own administrator (password set), for isolation tests.
    func makeAccount(_ name: String, admin login: String, password: String) async throws -> (Account, User) {
        let (account, admin, _) = try await panel.administration.createAccount(name: name, adminLogin: login, by: nil)
        try await Self.setPassword(password, for: admin, in: panel)
        return (account, admin)
    }

    /// The identity of `login` logged in with `password`, to drive the domain layer directly.
    func identity(_ login: String, _ password: String) async throws -> Identity {
        let result = try await panel.authenticator.logIn(login: login, password: password, address: "test", userAgent: "test")
        guard case .loggedIn(let secret, _) = result else { throw TestServerError(message: "cannot log in \(login): \(result)") }
        return try #require(try await panel.authenticator.identity(sessionSecret: secret, address: "test"))
    }

    func auditActions(account: String? = nil) async throws -> [String] {
        try await panel.audit.search(AuditLog.Query(limit: 1000), in: account ?? self.account._id).collect().reversed().map(\.action)
    }

    func user(_ login: String) async throws -> User? {
        try await panel.store.users.findOne(["login": .string(login)])
    }
}

/// An API answer's JSON object.
extension PanelHarness {
    /// A database named `name` with an e-mail identifier and one profile with `email`, made through the API.
    func databaseWithProfile(_ client: some TestClientProtocol, auth: HTTPFields, name: String, email: String) async throws -> (ProfileDatabase, Profile) {
        let created = try await client.execute(uri: "/api/v1/databases", method: .post, headers: auth, body: ByteBuffer(string: #"""
            {"name": "\#(name)", "fields": [{"key": "email", "type": "email", "unique": true}]}
            """#))
        let id = try #require(try jsonObject(created)["id"] as? String)
        _ = try await client.execute(uri: "/api/v1/databases/\(id)/profiles/bulk", method: .post, headers: auth,
                                     body: ByteBuffer(string: #"{"profiles": [{"fields": {"email": "\#(email)"}}]}"#))
        let database = try #require(try await panel.customers.databases.findOne(["_id": .string(id)]))
        let profile = try #require(try await panel.customers.profiles.list(database, search: email).first)
        return (database, profile)
    }
}

func jsonObject(_ response: TestResponse) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
}
