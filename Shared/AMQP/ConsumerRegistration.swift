/// A consumer as the connection thread keeps it, across reconnects.
final class ConsumerRegistration: @unchecked Sendable {
    // @unchecked Sendable: created by the caller, then touched only by the connection thread.
    let tag: String
    let queue: String
    let prefetch: UInt16
    let continuation: AsyncThrowingStream<AMQPDelivery, any Error>.Continuation
    var channel: UInt16 = 0

    init(tag: String, queue: String, prefetch: UInt16, continuation: AsyncThrowingStream<AMQPDelivery, any Error>.Continuation) {
        self.tag = tag
        self.queue = queue
        self.prefetch = prefetch
        self.continuation = continuation
    }
}
