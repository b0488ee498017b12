import AMQP
import Contracts
import CustomerData
import Foundation
import Mongo
import Security
import ServiceSupport

/// The profile card's (and the API's) "Add to a scenario": checks that the scenario is active and
/// takes this database's profiles, then hands the profile to the scenario engine as a
/// `ScenarioEntry` on the bus (`scenarios.entries`, confirmed by the broker), and records the
/// request on the profile's timeline (`scenario.requested`) and in the audit log.
public struct ScenarioEntryService: Sendable {
    public let scenarios: MongoCollection<Scenario>
    let customers: CustomerDataService
    let amqp: AMQPConnection?
    let audit: AuditLog

    public init(settings: MongoDatabase, customers: CustomerDataService, amqp: AMQPConnection?, audit: AuditLog) {
        scenarios = settings.collection(Scenario.collectionName, of: Scenario.self)
        self.customers = customers
        self.amqp = amqp
        self.audit = audit
    }

    public func prepare() async throws {
        try await scenarios.createIndexes([IndexModel(keys: ["accountId": 1, "databaseId": 1, "status": 1], name: "account_database_status")])
    }

    /// The scenarios a profile of `databaseId` can be added to now: active ones of that database.
    public func active(in databaseId: String, for identity: Identity) async throws -> [Scenario] {
        guard identity.can(.scenarios, .view) else { return [] }
        return try await scenarios.find(["accountId": .string(identity.account._id), "databaseId": .string(databaseId), "status": "active"],
                                        options: FindOptions(sort: ["name": 1])).collect()
    }

    /// Asks the engine to take the profile into the scenario at its start; answers the entry's id.
    public func enter(_ scenarioId: String, profile profileId: String, in databaseId: String, data: [String: Any] = [:], source: String,
                      by identity: Identity) async throws -> String {
        try identity.require(.scenarios, .send)
        guard let scenario = try await scenarios.findOne(["_id": .string(scenarioId), "accountId": .string(identity.account._id)]) else {
            throw ObjectNotFound("scenario", scenarioId)
        }
        let (database, profile) = try await customers.profile(profileId, in: databaseId, for: identity, audited: false)
        guard scenario.databaseId == database._id else {
            throw InvalidInput("scenarioId", "campaign_invalid", "the scenario '\(scenario.name)' takes the profiles of another database")
        }
        guard scenario.status == .active else {
            throw InvalidInput("scenarioId", "campaign_invalid", "the scenario '\(scenario.name)' is \(scenario.status.rawValue); only an active scenario takes profiles")
        }
        guard let amqp else { throw APIError(.serviceUnavailable, code: "unavailable", message: "the message bus is not reachable; try again") }
        var entry = Herald_Events_V1_ScenarioEntry()
        entry.meta = .new(account: identity.account._id, producer: "control")
        entry.profile.databaseID = database._id
        entry.profile.profileID = profile._id
        entry.scenarioID = scenario._id
        entry.scenarioVersion = scenario.version
        entry.requestedBy = identity.user.login
        if !data.isEmpty {
            guard JSONSerialization.isValidJSONObject(data) else { throw InvalidInput("data", "campaign_invalid", "data must be a JSON object") }
            entry.dataJson = String(decoding: try JSONSerialization.data(withJSONObject: data, options: [.sortedKeys]), as: UTF8.self)
        }
        do {
            try await amqp.publish(AMQPMessage(exchange: BusExchange.events, routingKey: BusRoutingKey.scenarioEntry, body: try entry.serializedBytes(),
                                               messageId: entry.meta.eventID, type: "herald.events.v1.ScenarioEntry", contentType: "application/x-protobuf",
                                               appId: "control"))
        } catch {
            throw APIError(.serviceUnavailable, code: "unavailable", message: "the message bus did not confirm the entry; try again: \(error)")
        }
        try await customers.profiles.record([ActivityEvent(accountId: identity.account._id, databaseId: database._id, profileId: profile._id, kind: "scenario.requested",
                                                           source: source, properties: ["scenario": .string(scenario.name), "scenarioId": .string(scenario._id),
                                                                                        "entry": .string(entry.meta.eventID)])])
        try await audit.record(identity.actor, "scenario.enter", kind: "profile", id: profile._id, name: CustomerDataService.title(of: profile, in: database),
                               changes: [.init(field: "scenario", before: nil, after: scenario.name)])
        return entry.meta.eventID
    }
}
