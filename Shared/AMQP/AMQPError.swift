/// An error from the AMQP connection: the broker's reply code and text where it answered.
public struct AMQPError: Error, CustomStringConvertible, Sendable, Equatable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String { case invalidConfiguration, connection, channelClosed, publishRejected, closed, consumerCancelled }
        private let base: Base
        /// A bad URI or option.
        public static let invalidConfiguration = Code(base: .invalidConfiguration)
        /// The broker could not be reached, refused the login, or the connection broke.
        public static let connection = Code(base: .connection)
        /// The broker closed a channel because of a request (e.g. 404 NOT_FOUND, 406 PRECONDITION_FAILED).
        public static let channelClosed = Code(base: .channelClosed)
        /// The broker answered a published message with basic.nack.
        public static let publishRejected = Code(base: .publishRejected)
        /// The connection was closed by this process.
        public static let closed = Code(base: .closed)
        /// The broker cancelled a consumer (its queue was deleted, say).
        public static let consumerCancelled = Code(base: .consumerCancelled)
        public var description: String { base.rawValue }
    }

    public let code: Code
    /// The AMQP reply code (e.g. 404, 406) when the broker sent one.
    public let replyCode: Int?
    public let message: String

    public init(_ code: Code, replyCode: Int? = nil, message: String) {
        self.code = code
        self.replyCode = replyCode
        self.message = message
    }

    static func invalidConfiguration(_ message: String) -> AMQPError { AMQPError(.invalidConfiguration, message: message) }

    public var description: String {
        if let replyCode { "AMQP \(code) (\(replyCode)): \(message)" } else { "AMQP \(code): \(message)" }
    }
}
