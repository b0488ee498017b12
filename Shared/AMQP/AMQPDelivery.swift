/// A message delivered to a consumer. Settle it once: ``ack(multiple:)``, ``nack(requeue:multiple:)``
/// or ``reject(requeue:)``. An unsettled delivery is redelivered when its consumer's connection ends.
public struct AMQPDelivery: Sendable {
    public let body: [UInt8]
    public let exchange: String
    public let routingKey: String
    /// True when the broker delivered this message before and it was not acknowledged.
    public let redelivered: Bool
    public let deliveryTag: UInt64
    public let properties: AMQPProperties
    let settle: DeliverySettlement

    /// Acknowledges this delivery (and, with `multiple`, every earlier one of the same consumer).
    public func ack(multiple: Bool = false) {
        settle.loop.enqueue(.settle(settle.generation, settle.channel, deliveryTag, .ack(multiple: multiple)))
    }

    /// Negatively acknowledges: `requeue` puts it back in the queue; otherwise it is dead-lettered or dropped.
    public func nack(requeue: Bool, multiple: Bool = false) {
        settle.loop.enqueue(.settle(settle.generation, settle.channel, deliveryTag, .nack(multiple: multiple, requeue: requeue)))
    }

    /// Rejects this delivery: dead-lettered (or dropped) unless `requeue`.
    public func reject(requeue: Bool) {
        settle.loop.enqueue(.settle(settle.generation, settle.channel, deliveryTag, .reject(requeue: requeue)))
    }
}

/// Where a delivery must be settled: its channel on the connection it came from.
struct DeliverySettlement: Sendable {
    let loop: AMQPIOLoop
    let generation: UInt64
    let channel: UInt16
}

/// The deliveries of one consumer, in order. Ends when the connection is closed; throws when the
/// broker cancels the consumer. Across reconnects it goes on with the new connection's deliveries.
public struct AMQPConsumer: AsyncSequence, Sendable {
    public typealias Element = AMQPDelivery
    /// The consumer tag the broker knows this consumer by.
    public let tag: String
    public let queue: String
    let stream: AsyncThrowingStream<[AMQPDelivery], any Error>
    let loop: AMQPIOLoop

    public struct AsyncIterator: AsyncIteratorProtocol {
        var batches: AsyncThrowingStream<[AMQPDelivery], any Error>.AsyncIterator
        var batch: [AMQPDelivery] = []
        var index = 0

        public mutating func next() async throws -> AMQPDelivery? {
            while index >= batch.count {
                guard let next = try await batches.next() else { return nil }
                batch = next
                index = 0
            }
            defer { index += 1 }
            return batch[index]
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(batches: stream.makeAsyncIterator())
    }

    /// The deliveries in the batches they arrived in from the socket, for consumers that write in
    /// batches. Use either this or the element-by-element iteration, not both.
    public var batches: AsyncThrowingStream<[AMQPDelivery], any Error> { stream }

    /// Stops deliveries (basic.cancel); unacknowledged ones go back to the queue when the channel closes.
    public func cancel() {
        loop.enqueue(.cancel(tag))
    }
}
