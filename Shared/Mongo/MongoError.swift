import CMongoC

/// An error from the document store: the server's code and message where the server answered,
/// or what went wrong on the way there.
public struct MongoError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String {
            case duplicateKey, server, connection, invalidArgument, cursor, encoding, decoding, shutdown
        }
        private let base: Base

        /// A write broke a unique index (server codes 11000 and 11001).
        public static let duplicateKey = Code(base: .duplicateKey)
        /// Any other error the server answered with; see ``MongoError/serverCode``.
        public static let server = Code(base: .server)
        /// The server could not be reached or selected, or the connection broke.
        public static let connection = Code(base: .connection)
        /// The request itself is malformed (a bad URI, option or command).
        public static let invalidArgument = Code(base: .invalidArgument)
        /// A cursor failed while results were streamed.
        public static let cursor = Code(base: .cursor)
        /// A value could not be written as BSON.
        public static let encoding = Code(base: .encoding)
        /// A stored document did not decode into the requested type.
        public static let decoding = Code(base: .decoding)
        /// The client was shut down.
        public static let shutdown = Code(base: .shutdown)

        public var description: String { base.rawValue }
    }

    public let code: Code
    /// The server's numeric error code (for example 11000), when the server answered.
    public let serverCode: Int?
    public let message: String

    package init(_ code: Code, serverCode: Int? = nil, message: String) {
        self.code = code
        self.serverCode = serverCode
        self.message = message
    }

    /// Maps libmongoc's error (error API version 2) to a `MongoError`.
    package init(_ error: bson_error_t) {
        let message = withUnsafeBytes(of: error.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        let code = Int(error.code)
        switch mongoc_error_domain_t(error.domain) {
        case MONGOC_ERROR_SERVER, MONGOC_ERROR_WRITE_CONCERN:
            self.init(code == 11000 || code == 11001 ? .duplicateKey : .server, serverCode: code, message: message)
        case MONGOC_ERROR_STREAM, MONGOC_ERROR_SERVER_SELECTION:
            self.init(.connection, message: message)
        case MONGOC_ERROR_CURSOR:
            self.init(.cursor, message: message)
        case MONGOC_ERROR_BSON:
            self.init(.encoding, message: message)
        default:
            if code == 11000 || code == 11001 {
                self.init(.duplicateKey, serverCode: code, message: message)
            } else {
                self.init(.invalidArgument, serverCode: nil, message: message)
            }
        }
    }

    public var description: String {
        if let serverCode { "MongoDB \(code) error \(serverCode): \(message)" } else { "MongoDB \(code) error: \(message)" }
    }
}
