import Logging
import ServiceLifecycle

/// One connection to RabbitMQ, driven by a dedicated thread (an `amqp_connection_state_t` is not
/// thread-safe, so only that thread touches it) and used from any task through async methods.
///
/// - Publishing waits for the broker's confirm, with up to ``AMQPConfiguration/confirmWindow``
///   messages in flight: a confirmed message is on the broker (on disk when persistent and the queue durable).
/// - Consumers receive deliveries as an `AsyncSequence` with a prefetch limit and explicit settlement.
/// - When the connection breaks, it reconnects with backoff, declares the topology again, publishes
///   again what was not confirmed, and resumes the consumers. Delivery is at least once.
public final class AMQPConnection: Service, Sendable {
    let loop: AMQPIOLoop
    public let configuration: AMQPConfiguration

    /// A connection that will connect when started (``start()`` or ``run()``).
    public init(configuration: AMQPConfiguration, logger: Logger) {
        self.configuration = configuration
        self.loop = AMQPIOLoop(configuration: configuration, logger: logger)
    }

    /// Starts the connection thread; it connects and keeps reconnecting until ``close()``.
    public func start() {
        loop.start()
    }

    /// Runs until the service group shuts down, then closes gracefully.
    public func run() async throws {
        start()
        try? await gracefulShutdown()
        await close()
    }

    /// Whether the connection is open now.
    public var isConnected: Bool { loop.isConnected }

    /// How many times the connection was opened (1 + the number of reconnects).
    public var connectionCount: Int { loop.connectionCount }

    /// The last connection error, while disconnected.
    public var lastError: AMQPError? { loop.lastError }

    /// Waits until the connection is open.
    ///
    /// - Throws: ``AMQPError`` with code `.connection` (and the last failure's text) after `timeout`.
    public func waitUntilConnected(timeout: Duration = .seconds(10)) async throws {
        start()
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while !loop.isConnected {
            if clock.now >= deadline {
                throw AMQPError(.connection, message: "not connected to \(configuration.redactedURL) after \(timeout): \(loop.lastError?.message ?? "no answer")")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Declares exchanges, queues and bindings, and remembers them to declare again after a reconnect.
    ///
    /// - Throws: ``AMQPError`` with code `.channelClosed` and the broker's reply (e.g. 406 when a queue
    ///   exists with other arguments); that part of the topology is then forgotten.
    public func declare(_ topology: AMQPTopology) async throws {
        start()
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            loop.enqueue(.declare(topology, c))
        }
    }

    /// Publishes one message and returns when the broker has confirmed it.
    ///
    /// - Throws: ``AMQPError`` `.publishRejected` on basic.nack, `.channelClosed` when the broker refused
    ///   it (no such exchange: 404), `.closed` when the connection was closed before the confirm.
    public func publish(_ message: AMQPMessage) async throws {
        try await publish(contentsOf: [message])
    }

    /// Publishes messages in order and returns when the broker has confirmed all of them.
    public func publish(contentsOf messages: [AMQPMessage]) async throws {
        guard !messages.isEmpty else { return }
        start()
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            loop.enqueue(.publish(messages, PublishGroup(count: messages.count, continuation: c)))
        }
    }

    /// Starts consuming `queue` with at most `prefetch` unacknowledged deliveries at a time.
    public func consume(queue: String, prefetch: UInt16 = 100) async throws -> AMQPConsumer {
        start()
        let tag = "herald.\(configuration.connectionName).\(UInt32.random(in: 0...UInt32.max))"
        let (stream, continuation) = AsyncThrowingStream<[AMQPDelivery], any Error>.makeStream()
        let registration = ConsumerRegistration(tag: tag, queue: queue, prefetch: prefetch, continuation: continuation)
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            loop.enqueue(.consume(registration, c))
        }
        return AMQPConsumer(tag: tag, queue: queue, stream: stream, loop: loop)
    }

    /// Deletes a queue; returns how many messages it held.
    @discardableResult
    public func deleteQueue(_ name: String) async throws -> Int {
        start()
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<Int, any Error>) in
            loop.enqueue(.deleteQueue(name, c))
        }
    }

    /// The number of messages ready in a queue (a passive declare).
    public func messageCount(queue: String) async throws -> Int {
        start()
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<Int, any Error>) in
            loop.enqueue(.messageCount(queue, c))
        }
    }

    /// Waits (up to 5 s) for outstanding confirms, ends the consumers, and closes the connection.
    /// Publishing after this fails with `.closed`.
    public func close() async {
        await loop.close()
    }

    /// Drops the socket without a goodbye, as a crashed process would (for failure tests).
    package func simulateCrash() async {
        await loop.close(abruptly: true)
    }
}
