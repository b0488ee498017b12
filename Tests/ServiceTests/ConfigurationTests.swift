import Foundation
import HeraldTesting
import ServiceSupport
import Testing

@Suite("Configuration")
struct ConfigurationTests {
    @Test func defaultsFollowTheDocumentedPorts() async throws {
        let expected = [("control", ServiceDescriptor.control, 80), ("tracker", .tracker, 80), ("job-server", .jobServer, 19888),
                        ("mta-sender", .mtaSender, 19891), ("bounce-fbl-reader", .bounceFBLReader, 19892)]
        for (name, descriptor, port) in expected {
            let (c, _) = try await HeraldConfiguration.load(for: descriptor, arguments: [name], environment: [:])
            #expect(c.httpPort == port, "\(name)")
            #expect(c.settingsMongoURI == "mongodb://127.0.0.1:27051")
            #expect(c.customersMongoURI == "mongodb://127.0.0.1:27052")
            #expect(c.amqpURL == "amqp://guest:guest@127.0.0.1:5672")
        }
    }

    @Test func commandLineBeatsEnvironmentBeatsFileBeatsDefaults() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("herald-\(UUID().uuidString).json")
        try Data(#"{"http": {"port": 7001, "host": "10.0.0.1"}, "log": {"level": "debug"}, "mongo": {"settings": {"uri": "mongodb://file:27051"}}}"#.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let (c, _) = try await HeraldConfiguration.load(
            for: .control,
            arguments: ["control", "--config-file", file.path, "--http-port", "7003"],
            environment: ["HERALD_HTTP_PORT": "7002", "HERALD_HTTP_HOST": "127.0.0.2", "HTTP_PORT": "1"]
        )
        #expect(c.httpPort == 7003)          // command line
        #expect(c.httpHost == "127.0.0.2")   // environment (HERALD_ prefix only)
        #expect(c.logLevel == .debug)        // file
        #expect(c.settingsMongoURI == "mongodb://file:27051")
        #expect(c.customersMongoURI == "mongodb://127.0.0.1:27052")  // default
    }

    @Test func badValuesNameTheKey() async throws {
        await #expect {
            _ = try await HeraldConfiguration.load(for: .control, arguments: ["control", "--mongo-threads", "0"], environment: [:])
        } throws: { "\($0)".contains("configuration key 'mongo.threads'") }
        await #expect {
            _ = try await HeraldConfiguration.load(for: .control, arguments: ["control"], environment: ["HERALD_HTTP_PORT": "eighty"])
        } throws: { "\($0)" == "configuration key 'http.port' (--http-port, HERALD_HTTP_PORT): 'eighty' is not a port number; use 1 to 65535" }

        await #expect {
            _ = try await HeraldConfiguration.load(for: .control, arguments: ["control", "--http-port", "1", "--http-port=2"], environment: [:])
        } throws: { "\($0)".contains("--http-port is given more than once") }

        let broken = FileManager.default.temporaryDirectory.appendingPathComponent("herald-\(UUID().uuidString).json")
        try Data("{not json".utf8).write(to: broken)
        defer { try? FileManager.default.removeItem(at: broken) }
        await #expect {
            _ = try await HeraldConfiguration.load(for: .control, arguments: ["control", "--config-file", broken.path], environment: [:])
        } throws: { "\($0)".contains("is not a valid JSON configuration file") }
    }
}
