import AMQP
import Logging
import ServiceLifecycle

/// The loop of a service that works through a queue in the batches the broker delivers: it
/// connects, consumes, hands each batch to `handle`, and starts again after a failure, until the
/// graceful shutdown — when a batch not yet handled goes back to the queue.
public enum QueueConsumer {
    public static func batches(
        amqp: AMQPConnection, queue: String, prefetch: UInt16, logger: Logger, _ handle: @escaping @Sendable ([AMQPDelivery]) async -> Void
    ) async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await amqp.waitUntilConnected(timeout: .seconds(30))
                    let consumer = try await amqp.consume(queue: queue, prefetch: prefetch)
                    for try await batch in consumer.batches where !batch.isEmpty {
                        if Task.isCancelled {
                            batch.last?.nack(requeue: true, multiple: true)
                            return
                        }
                        await handle(batch)
                    }
                } catch is CancellationError {
                    return
                } catch {
                    if Task.isCancelled { return }
                    logger.warning("queue consumer stopped; starting again", metadata: ["amqp.queue": "\(queue)", "error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }
}
