import BSON
import ControlPanel
import CustomerData
import Foundation
import HeraldTesting
import Mongo
import Testing

@Suite struct BootstrapTests {
    @Test func theFirstRunMakesTheAdministratorAndOnRequestTheDemoDatabase() async throws {
        let settingsClient = try MongoClient(uri: TestEnvironment.settingsMongoURI, applicationName: "herald-tests", logger: TestEnvironment.logger("mongo"))
        let customersClient = try MongoClient(uri: TestEnvironment.customersMongoURI, applicationName: "herald-tests", logger: TestEnvironment.logger("mongo"))
        var settings = ControlPanel.Settings()
        settings.database = TestEnvironment.uniqueName("boot")
        settings.customersDatabase = TestEnvironment.uniqueName("boot_customers")
        settings.bcryptCost = 4
        settings.demoData = true
        let panel = try await ControlPanel(settingsClient: settingsClient, customersClient: customersClient, amqp: nil, settings: settings, logger: TestEnvironment.logger("control"))
        try await panel.bootstrap()
        try await panel.bootstrap()  // a second start changes nothing
        let admins = try await panel.store.users.find(["login": "admin"]).collect()
        #expect(admins.count == 1 && admins[0].mustChangePassword && admins[0].platformAdmin)
        let databases = try await panel.customers.databases.find(["accountId": .string(admins[0].accountId)]).collect()
        #expect(databases.map(\.name) == ["Demo customers"])
        let demo = try #require(databases.first)
        #expect(try await panel.customers.profiles.count(demo) == 12)
        let anna = try #require(try await panel.customers.profiles.list(demo, search: "anna.ivanova@example.com").first)
        #expect(anna.subscriptions.count == 2)
        #expect(try await panel.customers.profiles.relations(of: anna).count == 1)
        #expect(try await !panel.customers.profiles.timeline(of: anna).isEmpty)
    }
}
