import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A RabbitMQ virtual host of the test's own on the test broker, made through the management
/// API (`HERALD_TEST_AMQP_MANAGEMENT_URL`, default `http://127.0.0.1:15672`): tests whose
/// services consume the bus's fixed queue names (mta-sender's email queues) get their own
/// copies of those queues, apart from every other test's. `delete()` removes it with its queues.
public struct TestVirtualHost: Sendable {
    public let name: String
    /// The broker's URL with this virtual host.
    public let url: String
    static var management: String {
        ProcessInfo.processInfo.environment["HERALD_TEST_AMQP_MANAGEMENT_URL"] ?? "http://127.0.0.1:15672"
    }

    public static func make() async throws -> TestVirtualHost {
        let name = TestEnvironment.uniqueName("vhost")
        try await request("PUT", "/api/vhosts/\(name)", body: "{}")
        try await request("PUT", "/api/permissions/\(name)/guest", body: #"{"configure":".*","write":".*","read":".*"}"#)
        let base = TestEnvironment.amqpURL.hasSuffix("/") ? String(TestEnvironment.amqpURL.dropLast()) : TestEnvironment.amqpURL
        return TestVirtualHost(name: name, url: "\(base)/\(name)")
    }

    public func delete() async {
        try? await Self.request("DELETE", "/api/vhosts/\(name)", body: nil)
    }

    static func request(_ method: String, _ path: String, body: String?) async throws {
        var request = URLRequest(url: URL(string: management + path)!)
        request.httpMethod = method
        request.setValue("Basic " + Data("guest:guest".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let body { request.httpBody = Data(body.utf8) }
        let (data, response) = try await URLSession.shared.data(for: request)
        guard let status = (response as? HTTPURLResponse)?.statusCode, (200..<300).contains(status) else {
            throw TestServerError(message: "RabbitMQ management \(method) \(path): \(String(decoding: data, as: UTF8.self))")
        }
    }
}
