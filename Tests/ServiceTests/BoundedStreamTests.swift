import Foundation
import ServiceSupport
import Synchronization
import Testing

@Suite("Bounded streams")
struct BoundedStreamTests {
    final class Counter: Sendable {
        let produced = Atomic<Int>(0)
        let stopped = Atomic<Bool>(false)
    }

    @Test func theProducerNeverRunsMoreThanItsCapacityAheadOfTheConsumer() async throws {
        let counter = Counter()
        let stream = BoundedStream<Int>(capacity: 2) { yield in
            for n in 0..<100 {
                try await yield(n)
                counter.produced.add(1, ordering: .relaxed)
            }
        }
        var consumed = 0
        var widest = 0
        for try await n in stream {
            #expect(n == consumed)
            consumed += 1
            // Let the producer run as far as it can before the next take.
            for _ in 0..<20 { await Task.yield() }
            widest = max(widest, counter.produced.load(ordering: .relaxed) - consumed)
        }
        #expect(consumed == 100)
        #expect(widest <= 2, "produced at most the capacity ahead: \(widest)")
    }

    @Test func aConsumerThatStopsStopsTheProducer() async throws {
        let counter = Counter()
        let stream = BoundedStream<Int>(capacity: 1) { yield in
            do {
                for n in 0..<1_000_000 { try await yield(n) }
            } catch {
                counter.stopped.store(true, ordering: .relaxed)
                throw error
            }
        }
        var taken = 0
        for try await _ in stream {
            taken += 1
            if taken == 3 { break }
        }
        for _ in 0..<200 where !counter.stopped.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(10)) }
        let stopped = counter.stopped.load(ordering: .relaxed)
        #expect(stopped, "the producer's yield threw once the consumer let go")
    }

    @Test func theProducersErrorEndsTheStream() async throws {
        struct Broken: Error {}
        let stream = BoundedStream<Int> { yield in
            try await yield(1)
            throw Broken()
        }
        var seen: [Int] = []
        await #expect(throws: Broken.self) {
            for try await n in stream { seen.append(n) }
        }
        #expect(seen == [1])
    }
}
