/// Turns runs of in-order acknowledgements into one `multiple` ack per turn of the connection
/// thread: a consumer that acks every delivery costs one frame per batch instead of one per message.
///
/// A run is coalesced only while every earlier delivery of the channel is known to be settled, so a
/// `multiple` ack never settles a delivery the consumer has not settled itself.
struct AckCoalescer {
    /// Per channel: every delivery tag up to this one is settled; nil once settlements went out of order.
    private var settledThrough: [UInt16: UInt64] = [:]
    /// Per channel: the highest acknowledgement not sent yet.
    private var pending: [UInt16: UInt64] = [:]

    /// A channel starts consuming: its delivery tags start at 1.
    mutating func open(_ channel: UInt16) {
        settledThrough[channel] = 0
        pending[channel] = nil
    }

    /// A connection is gone: nothing pending can be sent any more.
    mutating func reset() {
        settledThrough = [:]
        pending = [:]
    }

    /// Takes a single acknowledgement to send later; false when it must be sent now (it is out of order).
    mutating func absorb(channel: UInt16, tag: UInt64) -> Bool {
        guard let through = settledThrough[channel], tag == through + 1 else { return false }
        settledThrough[channel] = tag
        pending[channel] = tag
        return true
    }

    /// Records a settlement sent as it is (a nack, a reject, a multiple ack or an out-of-order ack).
    mutating func sent(channel: UInt16, tag: UInt64, multiple: Bool) {
        if multiple {
            // Everything up to `tag` is settled now, whatever was known before.
            settledThrough[channel] = max(settledThrough[channel] ?? 0, tag)
        } else if let through = settledThrough[channel], tag == through + 1 {
            settledThrough[channel] = tag
        } else if let through = settledThrough[channel], tag > through {
            settledThrough[channel] = nil
        }
    }

    /// The acknowledgement to send for `channel` now, if one is pending.
    mutating func takePending(_ channel: UInt16) -> UInt64? {
        pending.removeValue(forKey: channel)
    }

    /// Every pending acknowledgement, to send as `multiple` acks.
    mutating func takeAllPending() -> [(channel: UInt16, tag: UInt64)] {
        defer { pending = [:] }
        return pending.map { ($0.key, $0.value) }
    }
}
