import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// How to reach one SMTP server: where, from which source address, with which TLS policy and
/// credentials. `session` connects, says EHLO, upgrades with STARTTLS (RFC 3207) as the policy
/// asks, authenticates when given credentials, runs `body`, and ends with QUIT.
public struct SMTPClient: Sendable {
    /// What a session does about STARTTLS.
    public enum TLSPolicy: String, Codable, Sendable, CaseIterable {
        /// Never: plain text only.
        case disabled
        /// Use it when offered, accepting any certificate (what MTAs do between each other).
        case opportunistic
        /// Refuse to send unless it is offered; any certificate.
        case required
        /// Refuse to send unless it is offered and the certificate is valid for the host name.
        case verified
    }

    public struct Credentials: Sendable, Equatable {
        public var user: String
        public var password: String
        public init(user: String, password: String) {
            self.user = user
            self.password = password
        }
    }

    public struct Timeouts: Sendable, Equatable {
        public var connect: TimeAmount
        /// Greeting, EHLO, MAIL, RCPT, DATA (RFC 5321 §4.5.3.2 suggests 5 minutes).
        public var command: TimeAmount
        /// The answer to the end of the message (RFC 5321 suggests 10 minutes).
        public var dataEnd: TimeAmount
        public init(connect: TimeAmount = .seconds(30), command: TimeAmount = .seconds(120), dataEnd: TimeAmount = .seconds(300)) {
            self.connect = connect
            self.command = command
            self.dataEnd = dataEnd
        }
    }

    /// The server's name: used for TLS verification and in errors.
    public var host: String
    /// The address to connect to when already resolved (an MX host's IP); `host` otherwise.
    public var address: String?
    public var port: Int
    /// The source IP to send from (an IP of the account's pool); any when nil.
    public var localAddress: String?
    /// The name this side gives in EHLO.
    public var heloName: String
    public var tls: TLSPolicy
    public var credentials: Credentials?
    public var timeouts: Timeouts
    /// A PEM file of extra certificate authorities to trust with `.verified` (a private CA).
    public var trustedCertificates: String?

    public init(
        host: String, address: String? = nil, port: Int = 25, localAddress: String? = nil, heloName: String,
        tls: TLSPolicy = .opportunistic, credentials: Credentials? = nil, timeouts: Timeouts = Timeouts(), trustedCertificates: String? = nil
    ) {
        self.host = host
        self.address = address
        self.port = port
        self.localAddress = localAddress
        self.heloName = heloName
        self.tls = tls
        self.credentials = credentials
        self.timeouts = timeouts
        self.trustedCertificates = trustedCertificates
    }

    /// Runs `body` in an open session (greeted, EHLO, TLS and login done), then QUIT.
    public func session<T: Sendable>(_ body: (SMTPSession) async throws -> T) async throws -> T {
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(timeouts.connect)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
        if let localAddress {
            do {
                bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: localAddress, port: 0))
            } catch {
                throw SMTPError.connectionFailed(host: host, port: port, reason: "the source address \(localAddress) is not an IP address")
            }
        }
        let channel: NIOAsyncChannel<SMTPReply, ByteBuffer>
        do {
            channel = try await bootstrap.connect(host: address ?? host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
                    return try NIOAsyncChannel<SMTPReply, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        } catch {
            throw SMTPError.connectionFailed(host: host, port: port, reason: "\(error)")
        }
        return try await channel.executeThenClose { inbound, outbound in
            let session = SMTPSession(client: self, channel: channel.channel, replies: inbound.makeAsyncIterator(), outbound: outbound)
            defer { session.finish() }
            try await session.open()
            let result = try await body(session)
            await session.quit()
            return result
        }
    }

    // MARK: TLS

    /// One TLS context per policy and trust file, made once: loading the system's trust store is slow.
    private static let contexts = Mutex<[String: NIOSSLContext]>([:])

    func tlsContext() throws -> NIOSSLContext {
        let key = "\(tls.rawValue)|\(trustedCertificates ?? "")"
        if let context = Self.contexts.withLock({ $0[key] }) { return context }
        var configuration = TLSConfiguration.makeClientConfiguration()
        if tls == .verified {
            if let trustedCertificates {
                configuration.additionalTrustRoots = [.file(trustedCertificates)]
            }
        } else {
            configuration.certificateVerification = .none
        }
        let context = try NIOSSLContext(configuration: configuration)
        Self.contexts.withLock { $0[key] = context }
        return context
    }
}
