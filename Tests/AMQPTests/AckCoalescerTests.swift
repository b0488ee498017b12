@testable import AMQP
import Testing

@Suite("Acknowledgement coalescing")
struct AckCoalescerTests {
    @Test func inOrderAcksBecomeOneMultipleAck() {
        var c = AckCoalescer()
        c.open(3)
        for tag: UInt64 in 1...3 {
            let absorbed = c.absorb(channel: 3, tag: tag)
            #expect(absorbed)
        }
        let first = c.takeAllPending().map(\.tag)
        #expect(first == [3])
        let second = c.takeAllPending()
        #expect(second.isEmpty)
    }

    @Test func aGapIsNeverCoveredByAMultipleAck() {
        var c = AckCoalescer()
        c.open(3)
        let r1 = c.absorb(channel: 3, tag: 1)
        #expect(r1)
        // Delivery 2 is still being processed; 3 is acked first: it must go out on its own.
        let r2 = c.absorb(channel: 3, tag: 3)
        #expect(!r2)
        c.sent(channel: 3, tag: 3, multiple: false)
        // From now on the channel's history has a hole: nothing more is coalesced…
        let r3 = c.absorb(channel: 3, tag: 2)
        #expect(!r3)
        c.sent(channel: 3, tag: 2, multiple: false)
        let r4 = c.absorb(channel: 3, tag: 4)
        #expect(!r4)
        // …until a multiple settlement says everything up to a tag is settled.
        c.sent(channel: 3, tag: 4, multiple: true)
        let r5 = c.absorb(channel: 3, tag: 5)
        #expect(r5)
        let pending = c.takePending(3)
        #expect(pending == 5)
    }

    @Test func rejectionsInOrderKeepTheRunGoing() {
        var c = AckCoalescer()
        c.open(4)
        let r6 = c.absorb(channel: 4, tag: 1)
        #expect(r6)
        c.sent(channel: 4, tag: 2, multiple: false)  // a reject of 2
        let r7 = c.absorb(channel: 4, tag: 3)
        #expect(r7)
        let pending = c.takePending(4)
        #expect(pending == 3)
    }

    @Test func channelsAndConnectionsAreSeparate() {
        var c = AckCoalescer()
        c.open(3)
        c.open(4)
        let r8 = c.absorb(channel: 3, tag: 1)
        #expect(r8)
        let r9 = c.absorb(channel: 4, tag: 1)
        #expect(r9)
        let r10 = c.absorb(channel: 5, tag: 1)
        #expect(!r10, "a channel that was never opened")
        c.reset()
        let afterReset = c.takeAllPending()
        #expect(afterReset.isEmpty)
        let r11 = c.absorb(channel: 3, tag: 2)
        #expect(!r11)
    }
}
