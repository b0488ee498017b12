import Logging
import ServiceLifecycle

/// The loop of a service that does something every few seconds until the graceful shutdown: a
/// failed round is logged (`failure`, with the error) and the next one comes on time.
public enum Periodically {
    public static func run(every interval: Duration, logger: Logger, failure: Logger.Message, _ round: @escaping @Sendable () async throws -> Void) async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await round()
                } catch {
                    logger.warning(failure, metadata: ["error": "\(error)"])
                }
                do { try await Task.sleep(for: interval) } catch { return }
            }
        }
    }
}
