/// An asynchronous sequence whose producer waits for its consumer: `yield` returns once the
/// element is taken or there is room for it (at most `capacity` wait), so a fast producer (a
/// file read) never piles up ahead of a slow consumer (database writes) and memory stays flat.
/// When the consumer stops iterating, the producer's next `yield` throws `CancellationError`.
public struct BoundedStream<Element: Sendable>: AsyncSequence, Sendable {
    public typealias Yield = @Sendable (Element) async throws -> Void
    private let start: @Sendable () -> Handoff

    /// - Parameters:
    ///   - capacity: how many produced elements may wait for the consumer.
    ///   - produce: makes the elements, handing each to `yield`; its error ends the sequence with that error.
    public init(capacity: Int = 2, _ produce: @escaping @Sendable (_ yield: @escaping Yield) async throws -> Void) {
        start = {
            let handoff = Handoff(capacity: Swift.max(1, capacity))
            handoff.producer = Task {
                do {
                    try await produce { try await handoff.put($0) }
                    await handoff.finish(nil)
                } catch {
                    await handoff.finish(error)
                }
            }
            return handoff
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(owner: Owner(start())) }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let owner: Owner
        public mutating func next() async throws -> Element? { try await owner.handoff.take() }
    }

    /// Stops the producer when the consumer lets go of the iterator.
    final class Owner: Sendable {
        let handoff: Handoff
        init(_ handoff: Handoff) { self.handoff = handoff }
        deinit {
            let handoff = self.handoff
            Task { await handoff.cancel() }
        }
    }

    actor Handoff {
        let capacity: Int
        nonisolated(unsafe) var producer: Task<Void, Never>?
        private var buffer: [Element] = []
        private var producerWaiting: CheckedContinuation<Void, any Error>?
        private var consumerWaiting: CheckedContinuation<Element?, any Error>?
        private var finished = false
        private var failure: (any Error)?
        private var cancelled = false

        init(capacity: Int) { self.capacity = capacity }

        func put(_ element: Element) async throws {
            if cancelled { throw CancellationError() }
            if let consumer = consumerWaiting {
                consumerWaiting = nil
                consumer.resume(returning: element)
                return
            }
            buffer.append(element)
            if buffer.count >= capacity {
                try await withCheckedThrowingContinuation { producerWaiting = $0 }
            }
        }

        func take() async throws -> Element? {
            if !buffer.isEmpty {
                let element = buffer.removeFirst()
                if let producer = producerWaiting {
                    producerWaiting = nil
                    producer.resume()
                }
                return element
            }
            if finished {
                if let failure { throw failure }
                return nil
            }
            return try await withCheckedThrowingContinuation { consumerWaiting = $0 }
        }

        func finish(_ error: (any Error)?) {
            finished = true
            failure = error
            if let consumer = consumerWaiting {
                consumerWaiting = nil
                if let error { consumer.resume(throwing: error) } else { consumer.resume(returning: nil) }
            }
        }

        func cancel() {
            cancelled = true
            buffer.removeAll()
            producerWaiting?.resume(throwing: CancellationError())
            producerWaiting = nil
            producer?.cancel()
        }
    }
}
