@testable import AMQP
import Testing

@Suite("Acknowledgement coalescing")
struct AckCoalescerTests {
    let t0 = ContinuousClock.now

    @Test func inOrderAcksBecomeOneMultipleAck() {
        var c = AckCoalescer()
        c.open(3)
        for tag: UInt64 in 1...3 {
            let absorbed = c.absorb(channel: 3, tag: tag, now: t0)
            #expect(absorbed)
        }
        let first = c.takeDue(now: t0)
        #expect(first.map(\.tag) == [3] && first.allSatisfy(\.multiple))
        let second = c.takeDue(now: t0)
        #expect(second.isEmpty)
    }

    @Test func anAckAfterAGapWaitsForTheGapAndJoinsTheRun() {
        var c = AckCoalescer()
        c.open(3)
        let r1 = c.absorb(channel: 3, tag: 1, now: t0)
        #expect(r1)
        // Delivery 2 is still being processed; 3 is acked first: it is held, never covered while 2 is open.
        let r2 = c.absorb(channel: 3, tag: 3, now: t0)
        #expect(r2)
        let first = c.takeDue(now: t0)
        #expect(first.map(\.tag) == [1] && first.allSatisfy(\.multiple))
        #expect(c.isHolding)
        // 2 is settled: one multiple ack covers 2 and 3.
        let r3 = c.absorb(channel: 3, tag: 2, now: t0)
        #expect(r3)
        let second = c.takeDue(now: t0)
        #expect(second.map(\.tag) == [3] && second.allSatisfy(\.multiple))
        #expect(!c.isHolding)
    }

    @Test func aHeldAckGoesOutAloneAfterTheHoldLimit() {
        var c = AckCoalescer()
        c.open(3)
        let r4 = c.absorb(channel: 3, tag: 2, now: t0)
        #expect(r4)
        let r5 = c.takeDue(now: t0)
        #expect(r5.isEmpty, "held within the limit")
        let late = c.takeDue(now: t0 + AckCoalescer.holdLimit)
        #expect(late.map(\.tag) == [2] && late.allSatisfy { !$0.multiple })
        // 1 comes: a multiple ack of 1 (never sent, so the broker still has it); 2 is not sent again.
        let r6 = c.absorb(channel: 3, tag: 1, now: t0)
        #expect(r6)
        let run = c.takeDue(now: t0)
        #expect(run.map(\.tag) == [1] && run.allSatisfy(\.multiple))
        let r7 = c.absorb(channel: 3, tag: 2, now: t0)
        #expect(!r7, "an ack of a settled delivery is not absorbed")
        let r8 = c.absorb(channel: 3, tag: 3, now: t0)
        #expect(r8)
        let r9 = c.takeDue(now: t0)
        #expect(r9.map(\.tag) == [3])
    }

    @Test func tooManyHeldAcksGoOutAtOnce() {
        var c = AckCoalescer()
        c.open(3)
        for tag in 2...UInt64(AckCoalescer.holdCount + 1) {
            let held = c.absorb(channel: 3, tag: tag, now: t0)
            #expect(held)
        }
        let due = c.takeDue(now: t0)
        #expect(due.count == AckCoalescer.holdCount && due.allSatisfy { !$0.multiple })
    }

    @Test func anotherSettlementSendsWhatIsHeldFirstAndKeepsTheRunGoing() {
        var c = AckCoalescer()
        c.open(4)
        let r10 = c.absorb(channel: 4, tag: 1, now: t0)
        #expect(r10)
        let r11 = c.absorb(channel: 4, tag: 3, now: t0)
        #expect(r11)
        // A reject of 2: the run (1) and the held ack (3) go out before it.
        let before = c.takeAll(4)
        #expect(before.multiple == 1 && before.singles == [3])
        c.sent(channel: 4, tag: 2, multiple: false)
        let r12 = c.absorb(channel: 4, tag: 4, now: t0)
        #expect(r12)
        let r13 = c.takeDue(now: t0)
        #expect(r13.map(\.tag) == [4])
        // The consumer's own multiple ack settles everything up to its tag.
        c.sent(channel: 4, tag: 9, multiple: true)
        let r14 = c.absorb(channel: 4, tag: 7, now: t0)
        #expect(!r14)
        let r15 = c.absorb(channel: 4, tag: 10, now: t0)
        #expect(r15)
        let r16 = c.takeDue(now: t0)
        #expect(r16.map(\.tag) == [10])
    }

    @Test func channelsAndConnectionsAreSeparate() {
        var c = AckCoalescer()
        c.open(3)
        c.open(4)
        let r17 = c.absorb(channel: 3, tag: 1, now: t0)
        #expect(r17)
        let r18 = c.absorb(channel: 4, tag: 1, now: t0)
        #expect(r18)
        let r19 = c.absorb(channel: 5, tag: 1, now: t0)
        #expect(!r19, "a channel that was never opened")
        c.close(4)
        let r20 = c.takeDue(now: t0)
        #expect(r20.map(\.channel) == [3])
        c.reset()
        let r21 = c.takeDue(now: t0)
        #expect(r21.isEmpty)
        let r22 = c.absorb(channel: 3, tag: 2, now: t0)
        #expect(!r22)
    }
}
