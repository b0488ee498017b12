import AMQP
import BSON
import ControlPanel
import Contracts
import CustomerData
import Foundation
import HeraldTesting
import Hummingbird
import HummingbirdTesting
import Logging
import Mongo
import Security

/// The events API end to end in-process (HTTP routing, token check, JSON decoding, validation,
/// protobuf encoding, publishing with confirms) against publishing the same number of ready-made
/// messages of the same size through the same connection, in the same run; target 20,000 events/s.
enum EventsBenchmark {
    static func run(settingsURI: String, customersURI: String, amqpURL: String, requests: Int, perRequest: Int) async throws -> [BenchmarkResult] {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let settings = try MongoClient(uri: settingsURI, logger: logger), customers = try MongoClient(uri: customersURI, logger: logger)
        let amqp = AMQPConnection(configuration: try AMQPConfiguration(url: amqpURL, connectionName: "bench-events"), logger: logger)
        try await amqp.waitUntilConnected()
        let queue = "bench.events.\(UUID().uuidString.prefix(6).lowercased())"
        try await amqp.declare(AMQPTopology(exchanges: [.init(BusExchange.events, kind: .topic)], queues: [.init(queue, durable: true)],
                                            bindings: [.init(queue: queue, exchange: BusExchange.events, routingKey: "activity.#")]))
        var configuration = ControlPanel.Settings()
        configuration.database = "bench_panel_\(UUID().uuidString.prefix(6).lowercased())"
        configuration.customersDatabase = "bench_events_\(UUID().uuidString.prefix(6).lowercased())"
        configuration.bcryptCost = 4
        let panel = try await ControlPanel(settingsClient: settings, customersClient: customers, amqp: amqp, settings: configuration, logger: logger)
        try await panel.store.prepare()
        try await panel.customers.prepare()
        var (_, admin, password) = try await panel.administration.createAccount(name: "Bench", adminLogin: "bench@bench.test", by: nil)
        password = "Bench-Passw0rd-1"
        admin.passwordHash = try await PasswordHasher(cost: 4).hash(password)
        admin.mustChangePassword = false
        _ = try await panel.store.users.replaceOne(filter: ["_id": .string(admin._id)], replacement: admin)
        guard case .loggedIn(let secret, _) = try await panel.authenticator.logIn(login: admin.login, password: password, address: "", userAgent: "") else {
            throw TestServerError(message: "cannot log in the benchmark's user")
        }
        let identity = try await panel.authenticator.identity(sessionSecret: secret, address: "")!
        let database = try await panel.customers.createDatabase(name: "Bench", description: "", fields: nil, by: identity)
        let (_, token) = try await panel.administration.createToken(name: "bench", scopes: ["profiles:edit", "profiles:view"], expiresInDays: nil, by: identity)
        let router = Router(context: PanelRequestContext.self)
        panel.addRoutes(to: router)
        let events = (0..<perRequest).map { i in
            #"{"profile": {"email": "c\#(i)@example.com"}, "kind": "order.paid", "at": "2024-05-01T10:00:00Z", "properties": {"sum": \#(i % 1000).5, "sku": "A-\#(i % 77)"}}"#
        }.joined(separator: ",")
        let body = ByteBuffer(string: #"{"databaseId": "\#(database._id)", "source": "bench", "events": [\#(events)]}"#)
        let apiTime = try await Application(router: router).test(.router) { client in
            let headers: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
            _ = try await client.execute(uri: "/api/v1/events", method: .post, headers: headers, body: body)  // warm-up
            return try await measure {
                for _ in 0..<requests {
                    let response = try await client.execute(uri: "/api/v1/events", method: .post, headers: headers, body: body)
                    guard response.status == .accepted else { throw TestServerError(message: "events API answered \(response.status): \(String(buffer: response.body))") }
                }
            }
        }
        // The same count of ready-made messages of the same size, published and confirmed.
        var sample = Herald_Events_V1_ActivityEvent()
        sample.kind = "order.paid"
        sample.databaseID = database._id
        let size = (try sample.serializedBytes() as [UInt8]).count + 120
        let messages = (0..<perRequest).map { _ in
            // Straight into the benchmark's own queue (the default exchange): nothing else sees these bytes.
            AMQPMessage(exchange: "", routingKey: queue, body: [UInt8](repeating: 7, count: size), type: "herald.bench.raw")
        }
        let rawTime = try await measure { for _ in 0..<requests { try await amqp.publish(contentsOf: messages) } }
        _ = try await amqp.deleteQueue(queue)
        await amqp.close()
        let total = Double(requests * perRequest)
        return [BenchmarkResult(name: "events.api accepted", unit: "events/s", herald: total / apiTime, reference: total / rawTime,
                                referenceName: "raw confirmed publish", minimumRatio: nil, absoluteTarget: 20_000)]
    }
}
