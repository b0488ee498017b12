import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import Synchronization

/// An open SMTP session: several messages may be sent, one after another, each with `send`.
/// Used by one task at a time, the one that opened it.
public final class SMTPSession: @unchecked Sendable {
    // @unchecked Sendable: its state is touched only by the task running the session's body.
    public let client: SMTPClient
    /// What the server announced in its last EHLO reply (after STARTTLS, the second one).
    public private(set) var capabilities = SMTPCapabilities()
    /// True after a successful STARTTLS.
    public private(set) var isEncrypted = false
    /// The server's greeting.
    public private(set) var greeting: SMTPReply?
    /// Messages sent in this session (with any outcome).
    public private(set) var transactions = 0
    /// The next transaction's commands, sent with the last message's end; their replies are unread.
    private var announced: (envelope: SMTPEnvelope, commands: [String])?

    let channel: any Channel
    var replies: NIOAsyncChannelInboundStream<SMTPReply>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let timedOut = NIOLockedValueBox(false)
    /// When the reply being waited for is late (uptime nanoseconds; 0 while none is awaited).
    /// A watchdog on the channel's event loop closes the channel once it passes: setting a
    /// deadline costs the sending task nothing, where a timer per reply would cost two hops to
    /// the event loop (schedule and cancel) for every reply.
    private let deadline = ReplyDeadline()
    private let watchdog: RepeatedTask

    init(client: SMTPClient, channel: any Channel, replies: NIOAsyncChannelInboundStream<SMTPReply>.AsyncIterator,
         outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>)
    {
        self.client = client
        self.channel = channel
        self.replies = replies
        self.outbound = outbound
        let deadline = self.deadline
        let timedOut = self.timedOut
        // Checked a few times within the shortest timeout, at least once a second.
        let shortest = min(client.timeouts.command.nanoseconds, client.timeouts.dataEnd.nanoseconds)
        let tick = TimeAmount.nanoseconds(max(min(shortest / 4, 1_000_000_000), 10_000_000))
        watchdog = channel.eventLoop.scheduleRepeatedTask(initialDelay: tick, delay: tick) { [deadline] task in
            let due = deadline.nanoseconds.load(ordering: .relaxed)
            guard due != 0, NIODeadline.now().uptimeNanoseconds > due else { return }
            timedOut.withLockedValue { $0 = true }
            task.cancel()
            channel.close(promise: nil)
        }
    }

    deinit {
        watchdog.cancel()
    }

    /// Stops the watchdog once the session is over.
    func finish() {
        watchdog.cancel()
    }

    // MARK: Opening

    func open() async throws {
        let greeting = try await reply("the greeting", timeout: client.timeouts.command)
        self.greeting = greeting
        guard greeting.code == 220 else { throw SMTPError.rejected(stage: "the greeting", reply: greeting) }
        try await hello()
        if client.tls != .disabled {
            if capabilities.startTLS {
                try await startTLS()
            } else if client.tls == .required || client.tls == .verified {
                throw SMTPError.tlsFailed("\(client.host) does not offer STARTTLS and the policy is \(client.tls.rawValue)")
            }
        }
        if let credentials = client.credentials { try await authenticate(credentials) }
    }

    private func hello() async throws {
        try await write("EHLO \(client.heloName)\r\n")
        let ehlo = try await reply("EHLO", timeout: client.timeouts.command)
        if ehlo.code == 250 {
            capabilities = SMTPCapabilities(ehlo: ehlo)
            return
        }
        // A server from before ESMTP: HELO and no extensions.
        try await write("HELO \(client.heloName)\r\n")
        let helo = try await reply("HELO", timeout: client.timeouts.command)
        guard helo.code == 250 else { throw SMTPError.rejected(stage: "HELO", reply: helo) }
        capabilities = SMTPCapabilities()
    }

    private func startTLS() async throws {
        try await write("STARTTLS\r\n")
        let ready = try await reply("STARTTLS", timeout: client.timeouts.command)
        guard ready.code == 220 else {
            if client.tls == .opportunistic { return }
            throw SMTPError.tlsFailed("\(client.host) answered STARTTLS with \(ready)")
        }
        do {
            let context = try client.tlsContext()
            let hostname = client.host.first?.isNumber == true ? nil : client.host
            let channel = self.channel
            try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: hostname), position: .first)
            }.get()
            isEncrypted = true
            try await hello()
        } catch let error as SMTPError {
            if case .rejected = error { throw error }
            throw SMTPError.tlsFailed("the handshake with \(client.host) failed: \(error)")
        } catch {
            throw SMTPError.tlsFailed("the handshake with \(client.host) failed: \(error)")
        }
    }

    private func authenticate(_ credentials: SMTPClient.Credentials) async throws {
        if capabilities.authentication.contains("PLAIN") || !capabilities.authentication.contains("LOGIN") {
            let token = Data("\u{0}\(credentials.user)\u{0}\(credentials.password)".utf8).base64EncodedString()
            try await write("AUTH PLAIN \(token)\r\n")
            let answer = try await reply("AUTH", timeout: client.timeouts.command)
            guard answer.code == 235 else { throw SMTPError.rejected(stage: "AUTH PLAIN", reply: answer) }
        } else {
            try await write("AUTH LOGIN\r\n")
            for (step, value) in [("AUTH LOGIN", credentials.user), ("AUTH LOGIN password", credentials.password)] {
                let prompt = try await reply(step, timeout: client.timeouts.command)
                guard prompt.code == 334 else { throw SMTPError.rejected(stage: step, reply: prompt) }
                try await write(Data(value.utf8).base64EncodedString() + "\r\n")
            }
            let answer = try await reply("AUTH LOGIN", timeout: client.timeouts.command)
            guard answer.code == 235 else { throw SMTPError.rejected(stage: "AUTH LOGIN", reply: answer) }
        }
    }

    // MARK: Sending

    /// Sends one message: MAIL, RCPT for each recipient and DATA (in one write when the server
    /// allows PIPELINING, RFC 2920), then the message, dot-stuffed.
    ///
    /// With PIPELINING, the next message's MAIL, RCPT and DATA can go out in the same write as
    /// this message's end (RFC 2920 §3.1): one write and one round trip a message instead of two.
    /// That next message must then be the next one sent in this session; its replies are read then.
    ///
    /// Recipients the server refuses are listed in the result; when it refuses them all, or
    /// refuses MAIL or DATA, this throws `SMTPError.rejected` and resets the transaction so that
    /// the session can carry the next message.
    /// - Parameters:
    ///   - envelope: the return path and the recipients.
    ///   - message: the complete RFC 5322 message with CRLF line ends.
    ///   - next: the message to be sent after this one, to announce with this one's end.
    public func send(_ envelope: SMTPEnvelope, message: [UInt8], announcing next: (envelope: SMTPEnvelope, message: [UInt8])? = nil) async throws -> SMTPTransaction {
        let commands: [String]
        let wasAnnounced = announced != nil
        if let announced {
            self.announced = nil
            guard announced.envelope == envelope else {
                // Its DATA may have been accepted: only closing the connection ends it without delivering.
                channel.close(promise: nil)
                throw SMTPError.connectionClosed(stage: "MAIL FROM (a different message than the one announced)")
            }
            commands = announced.commands
        } else {
            commands = try self.commands(envelope, message: message)
        }
        transactions += 1

        var replies: [SMTPReply] = []
        if capabilities.pipelining {
            if !wasAnnounced { try await write(commands.map { $0 + "\r\n" }.joined()) }
            for command in commands { replies.append(try await reply(Self.stage(command), timeout: client.timeouts.command)) }
        } else {
            for command in commands {
                try await write(command + "\r\n")
                let answer = try await reply(Self.stage(command), timeout: client.timeouts.command)
                replies.append(answer)
                if command.hasPrefix("MAIL"), !answer.isPositive { break }
                if command.hasPrefix("RCPT"), command == commands[commands.count - 2],
                   !replies.dropFirst().contains(where: \.isPositive) { break }
            }
        }

        let mail = replies[0]
        var accepted: [String] = []
        var refused: [String: SMTPReply] = [:]
        for (index, recipient) in envelope.recipients.enumerated() where index + 1 < replies.count {
            let answer = replies[index + 1]
            if answer.isPositive { accepted.append(recipient) } else { refused[recipient] = answer }
        }
        let data = replies.count == commands.count ? replies[commands.count - 1] : nil
        guard mail.isPositive else {
            try await resetQuietly(dataAccepted: data?.code == 354)
            throw SMTPError.rejected(stage: "MAIL FROM", reply: mail)
        }
        guard !accepted.isEmpty else {
            try await resetQuietly(dataAccepted: data?.code == 354)
            throw SMTPError.rejected(stage: "RCPT TO", reply: refused[envelope.recipients[0]] ?? mail)
        }
        guard let data, data.code == 354 else {
            try await resetQuietly(dataAccepted: false)
            throw SMTPError.rejected(stage: "DATA", reply: data ?? mail)
        }

        var buffer = channel.allocator.buffer(capacity: message.count + message.count / 64 + 256)
        Self.appendDotStuffed(message, to: &buffer)
        if let next, capabilities.pipelining, let nextCommands = try? self.commands(next.envelope, message: next.message) {
            for command in nextCommands {
                buffer.writeString(command)
                buffer.writeString("\r\n")
            }
            announced = (next.envelope, nextCommands)
        }
        do {
            try await outbound.write(buffer)
        } catch {
            throw SMTPError.connectionClosed(stage: "DATA")
        }
        let end = try await reply("the end of the message", timeout: client.timeouts.dataEnd)
        guard end.isPositive else { throw SMTPError.rejected(stage: "the end of the message", reply: end) }
        return SMTPTransaction(accepted: accepted, refused: refused, reply: end)
    }

    /// MAIL (with SIZE, BODY and SMTPUTF8 as the server allows), a RCPT per recipient, and DATA;
    /// throws `SMTPError.unsendable` for a message this server cannot take.
    private func commands(_ envelope: SMTPEnvelope, message: [UInt8]) throws -> [String] {
        if let limit = capabilities.maximumSize, limit > 0, message.count > limit {
            throw SMTPError.unsendable("the message is \(message.count) bytes and \(client.host) takes at most \(limit)")
        }
        let utf8 = envelope.needsSMTPUTF8
        if utf8 && !capabilities.smtpUTF8 {
            throw SMTPError.unsendable("an address is internationalised and \(client.host) does not offer SMTPUTF8 (RFC 6531)")
        }
        var parameters = ""
        if capabilities.maximumSize != nil { parameters += " SIZE=\(message.count)" }
        if capabilities.eightBitMIME, Self.hasEightBitBytes(message) { parameters += " BODY=8BITMIME" }
        if utf8 { parameters += " SMTPUTF8" }
        return ["MAIL FROM:<\(envelope.mailFrom)>\(parameters)"] + envelope.recipients.map { "RCPT TO:<\($0)>" } + ["DATA"]
    }

    /// RSET: ends a transaction the server still holds.
    public func reset() async throws {
        try await write("RSET\r\n")
        let answer = try await reply("RSET", timeout: client.timeouts.command)
        guard answer.code == 250 else { throw SMTPError.rejected(stage: "RSET", reply: answer) }
    }

    /// After a refused transaction: a server that said 354 to a pipelined DATA waits for a
    /// message, so it gets an empty one (which it must not deliver: no recipient was accepted)
    /// before RSET.
    private func resetQuietly(dataAccepted: Bool) async throws {
        if dataAccepted {
            try await write(".\r\n")
            _ = try await reply("the end of an empty message", timeout: client.timeouts.dataEnd)
        }
        try await reset()
    }

    func quit() async {
        guard channel.isActive else { return }
        if announced != nil {
            // An announced transaction never sent: closing is the one way to end it undelivered.
            announced = nil
            channel.close(promise: nil)
            return
        }
        try? await write("QUIT\r\n")
        _ = try? await reply("QUIT", timeout: .seconds(5))
    }

    // MARK: Wire

    private func write(_ text: String) async throws {
        do {
            try await outbound.write(ByteBuffer(string: text))
        } catch {
            throw SMTPError.connectionClosed(stage: Self.stage(text))
        }
    }

    /// The next reply, or the connection is closed after `timeout`.
    private func reply(_ stage: String, timeout: TimeAmount) async throws -> SMTPReply {
        let due = NIODeadline.now() + timeout
        deadline.nanoseconds.store(due.uptimeNanoseconds, ordering: .relaxed)
        defer { deadline.nanoseconds.store(0, ordering: .relaxed) }
        do {
            if let reply = try await replies.next() { return reply }
        } catch let error as SMTPError {
            throw error
        } catch let error as NIOSSLError {
            throw SMTPError.tlsFailed("\(error)")
        } catch let error as BoringSSLError {
            throw SMTPError.tlsFailed("\(error)")
        } catch {
            if timedOut.withLockedValue({ $0 }) { throw SMTPError.timedOut(stage: stage) }
            throw SMTPError.connectionClosed(stage: "\(stage) (\(error))")
        }
        if timedOut.withLockedValue({ $0 }) { throw SMTPError.timedOut(stage: stage) }
        throw SMTPError.connectionClosed(stage: stage)
    }

    static func stage(_ command: String) -> String {
        let word = command.prefix { $0 != " " && $0 != ":" && $0 != "\r" }
        switch word {
        case "MAIL": return "MAIL FROM"
        case "RCPT": return "RCPT TO"
        default: return String(word)
        }
    }

    /// The message with every line that starts with "." given a second one (RFC 5321 §4.5.2),
    /// a final CRLF if it lacks one, and the ending ".". Line ends are found with `memchr`, and
    /// the text between them is copied in one piece.
    static func appendDotStuffed(_ message: [UInt8], to buffer: inout ByteBuffer) {
        message.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            let count = bytes.count
            var start = 0
            if bytes[0] == UInt8(ascii: ".") { buffer.writeInteger(UInt8(ascii: ".")) }
            var from = 0
            while from < count, let found = memchr(base + from, Int32(UInt8(ascii: "\n")), count - from) {
                let next = base.distance(to: UnsafeRawPointer(found)) + 1
                if next < count, bytes[next] == UInt8(ascii: ".") {
                    buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[start..<next]))
                    buffer.writeInteger(UInt8(ascii: "."))
                    start = next
                }
                from = next
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[start..<count]))
        }
        if !(message.count >= 2 && message[message.count - 2] == 13 && message[message.count - 1] == 10) {
            buffer.writeString("\r\n")
        }
        buffer.writeString(".\r\n")
    }

    /// Whether any byte is outside ASCII (then the message goes as BODY=8BITMIME), eight bytes at a time.
    static func hasEightBitBytes(_ message: [UInt8]) -> Bool {
        message.withUnsafeBytes { bytes in
            var seen: UInt64 = 0
            var index = 0
            while index + 8 <= bytes.count {
                seen |= bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                index += 8
            }
            while index < bytes.count {
                seen |= UInt64(bytes[index])
                index += 1
            }
            return seen & 0x8080_8080_8080_8080 != 0
        }
    }
}

/// The uptime by which the awaited reply must come; 0 while none is awaited.
private final class ReplyDeadline: Sendable {
    let nanoseconds = Synchronization.Atomic<UInt64>(0)
}
