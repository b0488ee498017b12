import ControlPanel
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

    static func with(_ body: @escaping @Sendable (PanelHarness, any TestClientProtocol) async throws -> Void) async throws {
        let client = try MongoClient(uri: TestEnvironment.settingsMongoURI, applicationName: "herald-tests", logger: TestEnvironment.logger("mongo"))
        let customers = try MongoClient(uri: TestEnvironment.customersMongoURI, applicationName: "herald-tests", logger: TestEnvironment.logger("mongo"))
        var settings = ControlPanel.Settings()
        settings.database = TestEnvironment.uniqueName("panel")
        settings.customersDatabase = TestEnvironment.uniqueName("customers")
        settings.bcryptCost = 4
        let panel = try await ControlPanel(settingsClient: client, customersClient: customers, settings: settings, logger: TestEnvironment.logger("control"))
        try await panel.store.prepare()
        try await panel.customers.prepare()
        let (account, admin, _) = try await panel.administration.createAccount(name: "Alpha", adminLogin: "admin@alpha.test", platformAdmin: true, by: nil)
        try await Self.setPassword(adminPassword, for: admin, in: panel)
        let router = Router(context: PanelRequestContext.self)
        panel.addRoutes(to: router)
        let harness = PanelHarness(client: client, panel: panel, router: router, account: account, admin: admin)
        let app = Application(router: router)
        try await app.test(.router) { client in
            try await body(harness, client)
        }
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
