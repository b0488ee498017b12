import Foundation

/// A RabbitMQ node of the test's own, beside the shared one, started and stopped through
/// `deploy/dev/stack.sh` (so tests exercise the same script operators and `make run` use).
/// For tests that stop or restart the broker without disturbing others.
public struct RabbitMQNode: Sendable {
    public let port: Int
    public let distributionPort: Int
    public let managementPort: Int
    public let nodeName: String

    public init(port: Int = 5673) {
        self.port = port
        distributionPort = port + 20000
        managementPort = port + 10000
        nodeName = "herald-test-\(port)@localhost"
    }

    public var url: String { "amqp://guest:guest@127.0.0.1:\(port)" }

    public func start() throws { try stack("start") }
    public func stop() throws { try stack("stop") }

    private func stack(_ verb: String) throws {
        let script = TestEnvironment.repositoryRoot.appendingPathComponent("deploy/dev/stack.sh").path
        let child = try ChildProcess(executable: "/bin/bash", arguments: [script, verb, "rabbitmq"], environment: [
            "AMQP_PORT": String(port),
            "AMQP_DIST_PORT": String(distributionPort),
            "AMQP_MANAGEMENT_PORT": String(managementPort),
            "RABBITMQ_NODE": nodeName,
        ])
        guard child.waitForExit() == 0 else {
            throw TestServerError(message: "stack.sh \(verb) rabbitmq on \(port) failed: \(child.output)")
        }
    }
}

