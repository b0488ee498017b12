/// The messages of one `publish` call: resumed once, when all are confirmed or one fails.
final class PublishGroup: @unchecked Sendable {
    // @unchecked Sendable: created by the caller, then touched only by the connection thread.
    private var remaining: Int
    private var continuation: CheckedContinuation<Void, any Error>?

    init(count: Int, continuation: CheckedContinuation<Void, any Error>) {
        remaining = count
        self.continuation = continuation
    }

    func confirmOne() {
        remaining -= 1
        if remaining == 0 {
            continuation?.resume()
            continuation = nil
        }
    }

    func fail(_ error: AMQPError) {
        continuation?.resume(throwing: error)
        continuation = nil
    }
}
