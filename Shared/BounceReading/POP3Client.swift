import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// A POP3 session (RFC 1939) over swift-nio: plain, STLS (RFC 2595) or POP3S, the server's
/// certificate verified unless told otherwise. One session at a time: `session` connects, logs in,
/// runs `body` with the mailbox, and always ends with QUIT — which is when the server deletes what
/// was marked; a session that breaks off deletes nothing.
public struct POP3Client: Sendable {
    public enum Security: String, Codable, Sendable, CaseIterable { case none, starttls, tls }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public var host: String
    public var port: Int
    public var security: Security
    public var user: String
    public var password: String
    /// Accept any certificate (self-signed test servers only).
    public var verifyCertificate: Bool
    public var timeout: Duration

    public init(host: String, port: Int, security: Security = .none, user: String, password: String, verifyCertificate: Bool = true, timeout: Duration = .seconds(30)) {
        self.host = host
        self.port = port
        self.security = security
        self.user = user
        self.password = password
        self.verifyCertificate = verifyCertificate
        self.timeout = timeout
    }

    func tlsHandler() throws -> NIOSSLClientHandler {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if !verifyCertificate { configuration.certificateVerification = .none }
        return try NIOSSLClientHandler(context: NIOSSLContext(configuration: configuration), serverHostname: host.first?.isNumber == true ? nil : host)
    }

    /// Runs `body` in a logged-in session, then QUIT.
    public func session<T: Sendable>(_ body: (POP3Mailbox) async throws -> T) async throws -> T {
        let client = self
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if client.security == .tls { try channel.pipeline.syncOperations.addHandler(try client.tlsHandler()) }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            let mailbox = POP3Mailbox(lines: POP3Lines(inbound.makeAsyncIterator()), outbound: outbound, timeout: timeout)
            try await mailbox.expectOK(try await mailbox.line(), "greeting")
            if security == .starttls {
                try await mailbox.command("STLS")
                try await channel.channel.pipeline.addHandler(try tlsHandler(), position: .first)
            }
            try await mailbox.command("USER \(user)")
            do {
                try await mailbox.command("PASS \(password)")
            } catch {
                throw Failure(description: "the POP3 server refused the login of '\(user)': \(error)")
            }
            let result = try await body(mailbox)
            try await mailbox.command("QUIT")
            return result
        }
    }
}

/// The mailbox inside a session.
public final class POP3Mailbox: @unchecked Sendable {
    // @unchecked Sendable: used by one task at a time, the session's.
    var lines: POP3Lines
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let timeout: Duration

    init(lines: POP3Lines, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, timeout: Duration) {
        self.lines = lines
        self.outbound = outbound
        self.timeout = timeout
    }

    func line() async throws -> String {
        guard let line = try await lines.next() else { throw POP3Client.Failure(description: "the POP3 server closed the connection") }
        return line
    }

    func expectOK(_ line: String, _ what: String) throws {
        guard line.hasPrefix("+OK") else { throw POP3Client.Failure(description: "\(what): \(line)") }
    }

    /// Sends a command and returns its status line's text after `+OK`.
    @discardableResult
    func command(_ text: String) async throws -> String {
        try await outbound.write(ByteBuffer(string: text + "\r\n"))
        let reply = try await line()
        try expectOK(reply, text.hasPrefix("PASS") ? "PASS" : text)
        return String(reply.dropFirst(3)).trimmingCharacters(in: .whitespaces)
    }

    /// A multi-line answer, dot-stuffing undone, as bytes with CRLF line ends.
    func multiline() async throws -> [UInt8] {
        var out: [UInt8] = []
        while true {
            var line = try await lines.nextRaw()
            if line == [UInt8(ascii: ".")] { return out }
            if line.first == UInt8(ascii: ".") { line.removeFirst() }
            out += line + [13, 10]
        }
    }

    /// The messages: number and unique id (UIDL).
    public func list() async throws -> [(number: Int, uid: String)] {
        try await command("UIDL")
        let body = String(decoding: try await multiline(), as: UTF8.self)
        return body.split(separator: "\r\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 2, let number = Int(parts[0]) else { return nil }
            return (number, String(parts[1]))
        }
    }

    public func retrieve(_ number: Int) async throws -> [UInt8] {
        try await command("RETR \(number)")
        return try await multiline()
    }

    /// Marks a message for deletion when the session ends with QUIT.
    public func delete(_ number: Int) async throws { try await command("DELE \(number)") }
}

/// CRLF-terminated lines from the connection's bytes.
struct POP3Lines {
    var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    var buffer: [UInt8] = []

    init(_ iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) { self.iterator = iterator }

    mutating func nextRaw() async throws -> [UInt8] {
        while true {
            if let end = buffer.firstIndex(of: 10) {
                var line = Array(buffer[..<end])
                buffer.removeSubrange(...end)
                if line.last == 13 { line.removeLast() }
                return line
            }
            guard let chunk = try await iterator.next() else { throw POP3Client.Failure(description: "the POP3 server closed the connection") }
            buffer += chunk.readableBytesView
        }
    }

    mutating func next() async throws -> String? { String(decoding: try await nextRaw(), as: UTF8.self) }
}
