import AMQP
import Foundation
import HeraldTesting
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Runs the built executables as an operator would and talks to them over HTTP.
@Suite("Service executables", .serialized)
struct ServiceProcessTests {
    static let executables = ["control", "tracker", "job-server", "mta-sender", "bounce-fbl-reader"]

    /// The directory holding the built executables (beside the test bundle).
    static var binDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    static func launch(_ name: String, port: Int, arguments: [String] = [], environment: [String: String] = [:]) throws -> ChildProcess {
        let path = binDirectory.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestServerError(message: "\(path) is not built; run `swift build --build-tests` (make test does)")
        }
        return try ChildProcess(
            executable: path,
            // The test's own --http-port replaces the default one (a flag given twice is refused).
            arguments: arguments + ["--http-host", "127.0.0.1", "--readiness-interval", "0.5"]
                + (arguments.contains("--http-port") ? [] : ["--http-port", String(port)]),
            environment: [
                "HERALD_MONGO_SETTINGS_URI": TestEnvironment.settingsMongoURI,
                "HERALD_MONGO_CUSTOMERS_URI": TestEnvironment.customersMongoURI,
                "HERALD_AMQP_URL": TestEnvironment.amqpURL,
                // control's own settings database, fresh per launch, and a fast password hash.
                "HERALD_MONGO_SETTINGS_DATABASE": TestEnvironment.uniqueName("control"),
                "HERALD_CONTROL_BCRYPT_COST": "4",
                "HERALD_TRACKING_SECRET": "service-test-tracking-secret-0123456789abcdef",
                "HERALD_TRACKER_SPOOL_DIRECTORY": FileManager.default.temporaryDirectory.appendingPathComponent("herald-tracker-spool").path,
                // mta-sender never looks up real domains in tests: its name server is a port nothing answers on.
                "HERALD_MTA_DNS_SERVER": "127.0.0.1:9",
            ].merging(environment) { $1 }
        )
    }

    static func get(_ port: Int, _ path: String) async -> (status: Int, body: String)? {
        guard let url = URL(string: "http://127.0.0.1:\(port)\(path)"),
              let (data, response) = try? await URLSession.shared.data(from: url),
              let http = response as? HTTPURLResponse else { return nil }
        return (http.statusCode, String(decoding: data, as: UTF8.self))
    }

    /// Polls `/ready` until it answers 200, up to `timeout`.
    static func waitUntilReady(_ port: Int, timeout: Duration = .seconds(20)) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            if let r = await get(port, "/ready"), r.status == 200 { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test(arguments: executables)
    func startsTurnsReadyAndStopsOnSIGTERM(_ name: String) async throws {
        let port = FreePort.next()
        // job-server consumes the shared queues (jobs, activity) that other tests fill meanwhile;
        // it gets a broker of its own, so that what it stops from is its own work.
        let node = name == "job-server" ? RabbitMQNode(port: 5675) : nil
        try node?.start()
        defer { try? node?.stop() }
        let process = try Self.launch(name, port: port, environment: node.map { ["HERALD_AMQP_URL": $0.url] } ?? [:])
        let ready = await Self.waitUntilReady(port)
        #expect(ready, "\(name) did not turn ready: \(process.output)")

        let health = try #require(await Self.get(port, "/health"))
        #expect(health.status == 200 && health.body.contains("\"service\":\"\(name)\""))
        let metrics = try #require(await Self.get(port, "/metrics"))
        #expect(metrics.body.contains("herald_dependency_up{dependency=\"amqp\"} 1"))

        let unknown = try #require(await Self.get(port, "/no-such-endpoint"))
        if name == "control" {
            // The panel denies by default: without a session every path leads to the login page,
            // which does not tell a stranger which paths exist.
            #expect(unknown.status == 200 && unknown.body.contains("id=\"login-form\""))
            #expect(process.output.contains("one_time_password="), "control's first run prints the administrator's one-time password")
        } else {
            #expect(unknown.status == 404)
            #expect(unknown.body == #"{"error":{"code":"not_found","message":"no endpoint for GET \/no-such-endpoint; see docs\/openapi.yaml"}}"#)
        }

        process.send(SIGTERM)
        let status = await process.waitForExit(timeout: .seconds(5))
        #expect(status == 0, "\(name) did not stop within 5 s of SIGTERM (status \(String(describing: status))): \(process.output)")
        #expect(process.output.contains("stopped"))
    }

    @Test func reportsNotReadyWhileDependenciesAreDownAndKeepsRunning() async throws {
        let port = FreePort.next()
        let process = try Self.launch("job-server", port: port, environment: [
            "HERALD_AMQP_URL": "amqp://guest:guest@127.0.0.1:1",
            "HERALD_MONGO_SETTINGS_URI": "mongodb://127.0.0.1:2/?serverSelectionTimeoutMS=200",
        ])
        struct Ready: Decodable {
            struct Check: Decodable { var name: String; var up: Bool; var error: String? }
            var ready: Bool
            var checks: [Check]
        }
        var ready: Ready?
        for _ in 0..<100 {
            if let r = await Self.get(port, "/ready"), r.status == 503,
               let decoded = try? JSONDecoder().decode(Ready.self, from: Data(r.body.utf8)),
               decoded.checks.allSatisfy({ $0.error != "being checked" }),
               decoded.checks.contains(where: { $0.name == "amqp" && $0.error?.contains("cannot connect") == true })
            {
                ready = decoded
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let report = try #require(ready, "no complete 503 report: \(process.output)")
        #expect(!report.ready)
        let checks = Dictionary(uniqueKeysWithValues: report.checks.map { ($0.name, $0) })
        #expect(checks["amqp"]?.error?.hasPrefix("not connected to amqp://guest@127.0.0.1:1: cannot connect to 127.0.0.1:1") == true)
        #expect(checks["mongo_settings"]?.up == false)
        #expect(checks["mongo_settings"]?.error?.contains("127.0.0.1:2") == true)
        #expect(checks["mongo_customers"]?.up == true)
        // Liveness stays green and the process keeps retrying instead of exiting.
        #expect(await Self.get(port, "/health")?.status == 200)
        try await Task.sleep(for: .seconds(1))
        #expect(process.exitStatus == nil)
        #expect(process.output.contains("AMQP broker unreachable; retrying with backoff"))
        #expect(process.output.contains("dependency unreachable; not ready, retrying with backoff"))
        process.send(SIGTERM)
        #expect(await process.waitForExit(timeout: .seconds(5)) == 0)
    }

    @Test func declaresItsQueuesOnTheBroker() async throws {
        let port = FreePort.next()
        // A broker of its own: the queues seen are the ones this job-server declared.
        let node = RabbitMQNode(port: 5676)
        try node.start()
        defer { try? node.stop() }
        let process = try Self.launch("job-server", port: port, environment: ["HERALD_AMQP_URL": node.url])
        #expect(await Self.waitUntilReady(port))
        try await withConnection(url: node.url) { c in
            for queue in ["jobs.import", "jobs.import.dead", "jobs.campaign.launch"] {
                _ = try await c.messageCount(queue: queue)
            }
        }
        process.send(SIGTERM)
        #expect(await process.waitForExit(timeout: .seconds(5)) == 0)
    }

    @Test func badConfigurationExitsWithTheKeyAndTheFix() async throws {
        let process = try Self.launch("tracker", port: 1, arguments: ["--http-port", "99999"])
        #expect(await process.waitForExit(timeout: .seconds(5)) == 64)
        #expect(process.output.contains("configuration key 'http.port' (--http-port, HERALD_HTTP_PORT): 99999 is not a port number; use 1 to 65535"))

        let noSecret = try Self.launch("tracker", port: FreePort.next(), environment: ["HERALD_TRACKING_SECRET": "short"])
        #expect(await noSecret.waitForExit(timeout: .seconds(10)) == 64)
        #expect(noSecret.output.contains("configuration key 'tracking.secret' (--tracking-secret, HERALD_TRACKING_SECRET): give the secret"))

        let missing = try Self.launch("tracker", port: FreePort.next(), arguments: ["--config-file", "/nonexistent/herald.json"])
        #expect(await missing.waitForExit(timeout: .seconds(5)) == 64)
        #expect(missing.output.contains("the configuration file '/nonexistent/herald.json' does not exist"))
    }

    @Test func controlsOwnSettingsAreCheckedLikeTheCommonOnes() async throws {
        let process = try Self.launch("control", port: FreePort.next(), arguments: ["--control-bcrypt-cost", "99"])
        #expect(await process.waitForExit(timeout: .seconds(10)) == 64)
        #expect(process.output.contains("configuration key 'control.bcrypt.cost' (--control-bcrypt-cost, HERALD_CONTROL_BCRYPT_COST): 99 is out of range"))
    }

    /// The runbook's way back in: a restart with `control.reset.password` logs a new one-time password.
    @Test func controlResetsALostAdministratorPassword() async throws {
        let database = TestEnvironment.uniqueName("control")
        let first = try Self.launch("control", port: FreePort.next(), environment: ["HERALD_MONGO_SETTINGS_DATABASE": database])
        var original: Substring?
        for _ in 0..<200 where original == nil {
            original = first.output.firstMatch(of: /one_time_password=(\S+)/)?.1
            try await Task.sleep(for: .milliseconds(100))
        }
        first.send(SIGTERM)
        #expect(await first.waitForExit(timeout: .seconds(5)) == 0)
        let firstPassword = try #require(original, "no first-run password: \(first.output)")

        let port = FreePort.next()
        let reset = try Self.launch("control", port: port, arguments: ["--control-reset-password", "ADMIN"],
                                    environment: ["HERALD_MONGO_SETTINGS_DATABASE": database])
        var line: Substring?
        for _ in 0..<200 where line == nil {
            if reset.output.contains("control.reset.password: new one-time password") {
                line = reset.output.firstMatch(of: /one_time_password=(\S+)/)?.1
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let newPassword = try #require(line, "no reset password: \(reset.output)")
        #expect(newPassword != firstPassword)
        #expect(!reset.output.contains("first run"))
        reset.send(SIGTERM)
        #expect(await reset.waitForExit(timeout: .seconds(5)) == 0)
    }
}
