import BSON
import CMongoC
import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A connection pool to one MongoDB deployment.
///
/// The client owns a `mongoc_client_pool_t` and a small thread pool: every libmongoc call blocks,
/// so it runs there, never on Swift's cooperative threads. Run the client as a `Service` (it
/// shuts down with its service group), or call ``shutdown()`` when done.
public final class MongoClient: Service, @unchecked Sendable {
    // @unchecked Sendable: a mongoc_client_pool_t is thread-safe (libmongoc's "Thread Safety"
    // documentation); each mongoc_client_t is popped by one thread, used by it alone, and pushed back.
    private let pool: OpaquePointer
    private let uri: OpaquePointer
    let threads: NIOThreadPool
    let logger: Logger
    /// The URI with any password removed, for logs and errors.
    public let redactedURI: String
    private let closed = Mutex(false)

    private static let initializeDriver: Void = {
        mongoc_init()
        // libmongoc logs to standard output by default, debug lines included; keep its warnings
        // and errors, through swift-log, and drop the rest.
        mongoc_log_set_handler({ level, domain, message, _ in
            guard level.rawValue <= MONGOC_LOG_LEVEL_WARNING.rawValue, let message else { return }
            let text = String(cString: message)
            let source = domain.map { String(cString: $0) } ?? "mongoc"
            if level.rawValue <= MONGOC_LOG_LEVEL_ERROR.rawValue {
                MongoClient.driverLogger.error("\(text)", metadata: ["mongoc.domain": "\(source)"])
            } else {
                MongoClient.driverLogger.warning("\(text)", metadata: ["mongoc.domain": "\(source)"])
            }
        }, nil)
    }()

    private static let driverLogger = Logger(label: "herald.mongoc")

    /// Creates a pool for `uri` (e.g. `mongodb://127.0.0.1:27051`). No connection is made until the first operation.
    ///
    /// - Parameters:
    ///   - uri: A MongoDB connection string. Without `serverSelectionTimeoutMS` (or `connectTimeoutMS`) in it, 2 s is used, so an
    ///     unreachable server is reported quickly instead of after libmongoc's 30 s default.
    ///   - applicationName: Shown by the server in its logs and `currentOp`.
    ///   - threadCount: Threads that run blocking driver calls (and so the most calls at once).
    /// - Throws: ``MongoError`` with code `.invalidArgument` for a malformed URI.
    public init(uri uriString: String, applicationName: String = "herald", threadCount: Int = 8, logger: Logger) throws {
        _ = Self.initializeDriver
        var error = bson_error_t()
        guard let uri = mongoc_uri_new_with_error(uriString, &error) else {
            throw MongoError(.invalidArgument, message: "'\(Self.redact(uriString))' is not a MongoDB URI: \(MongoError(error).message)")
        }
        if !uriString.lowercased().contains("serverselectiontimeoutms") {
            mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, 2000)
        }
        if !uriString.lowercased().contains("connecttimeoutms") {
            mongoc_uri_set_option_as_int32(uri, MONGOC_URI_CONNECTTIMEOUTMS, 2000)
        }
        mongoc_uri_set_appname(uri, applicationName)
        guard let pool = mongoc_client_pool_new_with_error(uri, &error) else {
            mongoc_uri_destroy(uri)
            throw MongoError(.invalidArgument, message: "cannot use '\(Self.redact(uriString))': \(MongoError(error).message)")
        }
        mongoc_client_pool_set_error_api(pool, herald_mongoc_error_api_version())
        self.uri = uri
        self.pool = pool
        self.logger = logger
        self.redactedURI = Self.redact(uriString)
        self.threads = NIOThreadPool(numberOfThreads: max(1, threadCount))
        threads.start()
    }

    deinit {
        if !closed.withLock({ $0 }) {
            try? threads.syncShutdownGracefully()
            mongoc_client_pool_destroy(pool)
            mongoc_uri_destroy(uri)
        }
    }

    /// Runs until the service group shuts down, then closes the pool.
    public func run() async throws {
        try? await gracefulShutdown()
        try await shutdown()
    }

    /// Waits for running operations, then frees the pool. Later operations fail with `.shutdown`.
    public func shutdown() async throws {
        let wasClosed = closed.withLock { c in
            defer { c = true }
            return c
        }
        guard !wasClosed else { return }
        try await threads.shutdownGracefully()
        mongoc_client_pool_destroy(pool)
        mongoc_uri_destroy(uri)
    }

    /// The database named `name`.
    public func database(_ name: String) -> MongoDatabase {
        MongoDatabase(client: self, name: name)
    }

    /// Asks the server to answer (`ping`); throws ``MongoError`` with code `.connection` when it cannot be reached.
    public func ping() async throws {
        _ = try await database("admin").runCommand(["ping": 1])
    }

    // MARK: Running driver calls

    /// Runs `body` on the client's threads with a `mongoc_client_t` of its own.
    func withClient<R: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws -> R) async throws -> R {
        try await onThread {
            let client = try self.popClient()
            defer { mongoc_client_pool_push(self.pool, client) }
            return try body(client)
        }
    }

    /// Runs `body` on the client's threads.
    func onThread<R: Sendable>(_ body: @escaping @Sendable () throws -> R) async throws -> R {
        guard !closed.withLock({ $0 }) else {
            throw MongoError(.shutdown, message: "the MongoDB client for \(redactedURI) was shut down")
        }
        do {
            return try await threads.runIfActive(body)
        } catch is NIOThreadPoolError.ThreadPoolInactive {
            throw MongoError(.shutdown, message: "the MongoDB client for \(redactedURI) was shut down")
        }
    }

    /// Takes a client from the pool; the caller pushes it back with ``push(_:)``.
    func popClient() throws -> OpaquePointer {
        guard !closed.withLock({ $0 }), let client = mongoc_client_pool_pop(pool) else {
            throw MongoError(.shutdown, message: "the MongoDB client for \(redactedURI) was shut down")
        }
        return client
    }

    func push(_ client: OpaquePointer) {
        mongoc_client_pool_push(pool, client)
    }

    /// `mongodb://user:secret@host` → `mongodb://user:***@host`.
    static func redact(_ uri: String) -> String {
        guard let scheme = uri.range(of: "://"), let at = uri.range(of: "@", range: scheme.upperBound..<uri.endIndex),
              let colon = uri.range(of: ":", range: scheme.upperBound..<at.lowerBound)
        else { return uri }
        return uri.replacingCharacters(in: colon.upperBound..<at.lowerBound, with: "***")
    }
}
