/// A consumer as the connection thread keeps it, across reconnects.
///
/// Deliveries are handed to the consumer's task in batches, one per pass over the socket, not
/// one by one: waking a task costs more than a delivery does.
final class ConsumerRegistration: @unchecked Sendable {
    // @unchecked Sendable: created by the caller, then touched only by the connection thread.
    let tag: String
    let queue: String
    let prefetch: UInt16
    var channel: UInt16 = 0
    private let continuation: AsyncThrowingStream<[AMQPDelivery], any Error>.Continuation
    private var batch: [AMQPDelivery] = []

    init(tag: String, queue: String, prefetch: UInt16, continuation: AsyncThrowingStream<[AMQPDelivery], any Error>.Continuation) {
        self.tag = tag
        self.queue = queue
        self.prefetch = prefetch
        self.continuation = continuation
    }

    /// Adds a delivery to the batch; returns true when the batch was empty (so it needs a flush).
    func deliver(_ delivery: AMQPDelivery) -> Bool {
        batch.append(delivery)
        return batch.count == 1
    }

    /// Hands the batch to the consumer's task.
    func flush() {
        guard !batch.isEmpty else { return }
        continuation.yield(batch)
        batch = []
    }

    /// Ends the consumer's sequence after what it was already given.
    func finish(throwing error: (any Error)? = nil) {
        flush()
        continuation.finish(throwing: error)
    }
}
