import AMQP
import Logging
import ServiceLifecycle

/// Declares the service's exchanges and queues once the broker answers (and the connection declares
/// them again after each reconnect).
struct BusDeclaration: Service {
    let amqp: AMQPConnection
    let topology: AMQPTopology
    let logger: Logger

    func run() async throws {
        do {
            try await amqp.declare(topology)
        } catch {
            // A topology the broker refuses (a queue declared elsewhere with other arguments) is an
            // operator's problem to fix; say exactly what and keep serving.
            logger.error("the broker refused the bus topology", metadata: ["error": "\(error)"])
        }
        try? await gracefulShutdown()
    }
}
