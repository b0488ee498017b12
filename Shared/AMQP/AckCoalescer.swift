/// Turns a consumer's single acknowledgements into few `multiple` acks: a consumer that acks
/// every delivery costs the broker one frame per batch instead of one per message.
///
/// Acks that arrive in order extend a run, sent as one `multiple` ack per turn of the connection
/// thread. Acks that arrive out of order (deliveries finished by concurrent work) are held for a
/// moment: once the gap before them is settled they join the run; if it is not settled within
/// `holdLimit` they go out one by one, so a slow delivery never keeps the others from being
/// acknowledged (and the prefetch window from refilling) for long.
///
/// A `multiple` ack is sent only for a tag that was never settled, and only when every earlier
/// delivery of the channel is known to be settled, so it never settles a delivery the consumer
/// has not settled itself. Before any other settlement of a channel (a nack, a reject, a
/// `multiple` ack of the consumer's own) everything held is sent, so order is kept.
struct AckCoalescer {
    /// How long an out-of-order ack may wait for the deliveries before it.
    static let holdLimit = Duration.milliseconds(50)
    /// At most this many acks are held per channel.
    static let holdCount = 1024

    private struct ChannelState {
        /// Every delivery tag up to this one is settled (sent, or held in `pending`).
        var through: UInt64 = 0
        /// The highest tag of the run, not sent yet: to send as a `multiple` ack.
        var pending: UInt64?
        /// Acks above a gap, not sent yet.
        var held: Set<UInt64> = []
        /// Settlements above a gap already sent one by one.
        var sentAbove: Set<UInt64> = []
        /// When the oldest held ack came.
        var heldSince: ContinuousClock.Instant?

        /// Moves `through` over every settled tag that follows it.
        mutating func advance() {
            while true {
                let next = through + 1
                if held.remove(next) != nil {
                    through = next
                    pending = next
                } else if sentAbove.remove(next) != nil {
                    through = next
                } else {
                    break
                }
            }
            if held.isEmpty { heldSince = nil }
        }
    }

    private var channels: [UInt16: ChannelState] = [:]

    /// A channel starts consuming: its delivery tags start at 1.
    mutating func open(_ channel: UInt16) {
        channels[channel] = ChannelState()
    }

    /// A channel is gone: what it held cannot be sent any more (the broker requeues its deliveries).
    mutating func close(_ channel: UInt16) {
        channels[channel] = nil
    }

    /// A connection is gone: nothing pending can be sent any more.
    mutating func reset() {
        channels = [:]
    }

    /// True while some channel holds acks (the connection thread then looks again within `holdLimit`).
    var isHolding: Bool { channels.values.contains { !$0.held.isEmpty } }

    /// Takes a single acknowledgement to send later; false when it must be sent now (an unknown
    /// channel, or a tag already settled).
    mutating func absorb(channel: UInt16, tag: UInt64, now: ContinuousClock.Instant = .now) -> Bool {
        guard var c = channels[channel], tag > c.through, !c.held.contains(tag), !c.sentAbove.contains(tag) else { return false }
        c.held.insert(tag)
        if c.heldSince == nil { c.heldSince = now }
        c.advance()
        channels[channel] = c
        return true
    }

    /// Everything of `channel` not sent yet, to send before another settlement of it: the run's
    /// `multiple` ack first, then the held acks one by one.
    mutating func takeAll(_ channel: UInt16) -> (multiple: UInt64?, singles: [UInt64]) {
        guard var c = channels[channel] else { return (nil, []) }
        let multiple = c.pending
        let singles = c.held.sorted()
        c.pending = nil
        c.sentAbove.formUnion(c.held)
        c.held = []
        c.heldSince = nil
        channels[channel] = c
        return (multiple, singles)
    }

    /// Records a settlement sent as it is (a nack, a reject, a multiple ack or an ack not absorbed).
    mutating func sent(channel: UInt16, tag: UInt64, multiple: Bool) {
        guard var c = channels[channel] else { return }
        if multiple {
            // Everything up to `tag` is settled now.
            if tag > c.through { c.through = tag }
            c.sentAbove = c.sentAbove.filter { $0 > tag }
            c.held = c.held.filter { $0 > tag }
        } else if tag > c.through {
            c.sentAbove.insert(tag)
        }
        c.advance()
        channels[channel] = c
    }

    /// What is due at the end of a turn: every run's `multiple` ack, and the held acks of a
    /// channel whose oldest has waited `holdLimit` (or that holds too many), one by one.
    mutating func takeDue(now: ContinuousClock.Instant = .now) -> [(channel: UInt16, tag: UInt64, multiple: Bool)] {
        var due: [(channel: UInt16, tag: UInt64, multiple: Bool)] = []
        for channel in channels.keys.sorted() {
            var c = channels[channel]!
            if let pending = c.pending {
                due.append((channel, pending, true))
                c.pending = nil
            }
            if let since = c.heldSince, since + Self.holdLimit <= now || c.held.count >= Self.holdCount {
                for tag in c.held.sorted() { due.append((channel, tag, false)) }
                c.sentAbove.formUnion(c.held)
                c.held = []
                c.heldSince = nil
            }
            channels[channel] = c
        }
        return due
    }
}
