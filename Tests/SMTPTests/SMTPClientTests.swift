import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HeraldTesting
import MIME
import NIOCore
@testable import SMTP
import Testing

@Suite("SMTP client against real servers")
struct SMTPClientTests {
    func message(to: String, subject: String = "Hello", body: String = "Hi.\r\n.starts with a dot\r\nend") -> [UInt8] {
        Array("From: Shop <news@shop.test>\r\nTo: <\(to)>\r\nSubject: \(subject)\r\nMessage-ID: <\(UUID().uuidString)@shop.test>\r\n\r\n\(body)\r\n".utf8)
    }

    @Test("several messages in one session, dot-stuffed, to aiosmtpd")
    func severalMessages() async throws {
        let server = try await AIOSMTPServer()
        let client = SMTPClient(host: "127.0.0.1", port: server.port, heloName: "sender.test", tls: .opportunistic)
        let results = try await client.session { session in
            #expect(!session.capabilities.pipelining, "aiosmtpd does not pipeline: commands go one by one")
            #expect(session.capabilities.smtpUTF8)
            var results: [SMTPTransaction] = []
            for n in 0..<3 {
                results.append(try await session.send(SMTPEnvelope(mailFrom: "b-\(n)@bounce.shop.test", recipient: "user\(n)@example.test"),
                                                      message: message(to: "user\(n)@example.test")))
            }
            return results
        }
        #expect(results.map(\.reply.code) == [250, 250, 250])
        let received = try await server.waitForMessages(3)
        #expect(Set(received.map(\.peerPort)).count == 1, "one connection carried the three messages")
        #expect(received.map(\.mailFrom) == ["b-0@bounce.shop.test", "b-1@bounce.shop.test", "b-2@bounce.shop.test"])
        #expect(received[2].recipients == ["user2@example.test"])
        #expect(received[0].mailOptions.contains { $0.hasPrefix("SIZE=") })
        #expect(received[0].text.contains("\r\n.starts with a dot\r\n"), "the receiver undid the dot-stuffing")
        #expect(!received[0].tls)
    }

    @Test("STARTTLS with a verified certificate, and refusal when verification fails")
    func startTLS() async throws {
        let server = try await AIOSMTPServer(tls: true, requireTLS: true)
        let verified = SMTPClient(host: "localhost", address: "127.0.0.1", port: server.port, heloName: "sender.test", tls: .verified,
                                  trustedCertificates: server.certificate)
        let transaction = try await verified.session { session in
            #expect(session.isEncrypted)
            return try await session.send(SMTPEnvelope(mailFrom: "a@shop.test", recipient: "tls@example.test"), message: message(to: "tls@example.test"))
        }
        #expect(transaction.reply.code == 250)
        #expect(try await server.waitForMessages(1)[0].tls)

        // The same certificate is not trusted without the test's CA file.
        let untrusted = SMTPClient(host: "localhost", address: "127.0.0.1", port: server.port, heloName: "sender.test", tls: .verified)
        await #expect { try await untrusted.session { _ in () } } throws: { error in
            guard case .tlsFailed = error as? SMTPError else { return false }
            return true
        }
        // Opportunistic TLS takes any certificate, as MTAs do between each other.
        let opportunistic = SMTPClient(host: "localhost", address: "127.0.0.1", port: server.port, heloName: "sender.test")
        #expect(try await opportunistic.session { $0.isEncrypted })
    }

    @Test("a server without STARTTLS: opportunistic sends in plain text, required refuses")
    func noTLSOffered() async throws {
        let server = try await AIOSMTPServer()
        let required = SMTPClient(host: "127.0.0.1", port: server.port, heloName: "sender.test", tls: .required)
        await #expect { try await required.session { _ in () } } throws: { error in
            guard case .tlsFailed(let reason) = error as? SMTPError else { return false }
            return reason.contains("does not offer STARTTLS")
        }
        let opportunistic = SMTPClient(host: "127.0.0.1", port: server.port, heloName: "sender.test")
        #expect(try await opportunistic.session { $0.isEncrypted } == false)
    }

    @Test("refused recipients: 4xx is transient, 5xx permanent with its enhanced status; the session goes on")
    func refusals() async throws {
        let server = try await AIOSMTPServer(rules: [
            .init(pattern: "full@*", reply: "452 4.2.2 Mailbox full"),
            .init(pattern: "nobody@*", reply: "550 5.1.1 No such user here"),
        ])
        let client = SMTPClient(host: "127.0.0.1", port: server.port, heloName: "sender.test")
        try await client.session { session in
            for (address, transient, status) in [("full@example.test", true, "4.2.2"), ("nobody@example.test", false, "5.1.1")] {
                do {
                    _ = try await session.send(SMTPEnvelope(mailFrom: "a@shop.test", recipient: address), message: message(to: address))
                    Issue.record("\(address) was accepted")
                } catch let error as SMTPError {
                    #expect(error.isTransient == transient)
                    #expect(error.reply?.enhancedStatus == status)
                    guard case .rejected(let stage, _) = error else { Issue.record("\(error)"); continue }
                    #expect(stage == "RCPT TO")
                }
            }
            let ok = try await session.send(SMTPEnvelope(mailFrom: "a@shop.test", recipient: "ok@example.test"), message: message(to: "ok@example.test"))
            #expect(ok.reply.code == 250)
        }
        let received = try await server.waitForMessages(1)
        #expect(received.count == 1 && received[0].recipients == ["ok@example.test"], "no empty message was delivered after the refusals")
    }

    @Test("some recipients refused, the others get the message")
    func partialRecipients() async throws {
        let server = try await AIOSMTPServer(rules: [.init(pattern: "nobody@*", reply: "550 5.1.1 No such user here")])
        let client = SMTPClient(host: "127.0.0.1", port: server.port, heloName: "sender.test")
        let transaction = try await client.session { session in
            try await session.send(SMTPEnvelope(mailFrom: "a@shop.test", recipients: ["one@example.test", "nobody@example.test", "two@example.test"]),
                                   message: message(to: "one@example.test"))
        }
        #expect(transaction.accepted == ["one@example.test", "two@example.test"])
        #expect(transaction.refused["nobody@example.test"]?.code == 550)
        #expect(try await server.waitForMessages(1)[0].recipients == ["one@example.test", "two@example.test"])
    }

    @Test("relay login with AUTH, and a wrong password refused")
    func authentication() async throws {
        let server = try await AIOSMTPServer(login: ("relay", "s3cret"))
        let client = SMTPClient(host: "127.0.0.1", port: server.port, heloName: "sender.test", tls: .disabled,
                                credentials: .init(user: "relay", password: "s3cret"))
        _ = try await client.session { session in
            try await session.send(SMTPEnvelope(mailFrom: "a@shop.test", recipient: "r@example.test"), message: message(to: "r@example.test"))
        }
        #expect(try await server.waitForMessages(1)[0].authenticated)
        var wrong = client
        wrong.credentials = .init(user: "relay", password: "nope")
        await #expect { try await wrong.session { _ in () } } throws: { error in
            guard case .rejected(let stage, let reply) = error as? SMTPError else { return false }
            return stage.hasPrefix("AUTH") && reply.code == 535
        }
    }

    @Test("internationalised addresses use SMTPUTF8, and 8-bit bodies BODY=8BITMIME")
    func internationalised() async throws {
        let server = try await AIOSMTPServer()
        let client = SMTPClient(host: "127.0.0.1", port: server.port, heloName: "sender.test")
        _ = try await client.session { session in
            try await session.send(SMTPEnvelope(mailFrom: "a@shop.test", recipient: "анна@пример.test"),
                                   message: message(to: "x@example.test", body: "Привет"))
        }
        let received = try await server.waitForMessages(1)
        #expect(received[0].recipients == ["анна@пример.test"])
        #expect(received[0].mailOptions.contains("SMTPUTF8"))
        #expect(received[0].mailOptions.contains("BODY=8BITMIME"))
    }

    @Test("Postfix smtp-sink takes five MailMessages in one pipelined session")
    func postfixSink() async throws {
        let sink = try await SMTPSink()
        let client = SMTPClient(host: "127.0.0.1", port: sink.port, heloName: "sender.test")
        let mail = MailMessage(from: MailAddress("news@shop.test", name: "Shop"), to: [MailAddress("anna@example.test")], subject: "Скидки", html: "<p>Привет</p>", messageID: "m1@shop.test")
        try await client.session { session in
            #expect(session.capabilities.pipelining, "MAIL, RCPT and DATA go in one write")
            for _ in 0..<5 {
                _ = try await session.send(SMTPEnvelope(mailFrom: "b@shop.test", recipient: "anna@example.test"), message: mail.rendered())
            }
        }
        try await sink.waitForMessages(5)
    }

    @Test("the next message's MAIL, RCPT and DATA go out with a message's end (RFC 2920); one announced and never sent is not delivered")
    func announcedTransactions() async throws {
        let sink = try await SMTPSink()
        let client = SMTPClient(host: "127.0.0.1", port: sink.port, heloName: "sender.test")
        func letter(_ n: Int) -> (envelope: SMTPEnvelope, message: [UInt8]) {
            let mail = MailMessage(from: MailAddress("news@shop.test"), to: [MailAddress("r\(n)@example.test")], subject: "Letter \(n)",
                                   text: "Letter \(n)", messageID: "m\(n)@shop.test")
            return (SMTPEnvelope(mailFrom: "b\(n)@shop.test", recipient: "r\(n)@example.test"), mail.rendered())
        }
        try await client.session { session in
            for n in 1...3 {
                let transaction = try await session.send(letter(n).envelope, message: letter(n).message, announcing: n < 3 ? letter(n + 1) : nil)
                #expect(transaction.accepted == ["r\(n)@example.test"])
            }
        }
        // Announced, then the session ends: the connection is closed inside DATA, so nothing is delivered.
        try await client.session { session in
            _ = try await session.send(letter(4).envelope, message: letter(4).message, announcing: letter(5))
        }
        // Announced, then a different message: refused before anything reaches the server.
        await #expect(throws: SMTPError.self) {
            try await client.session { session in
                _ = try await session.send(letter(6).envelope, message: letter(6).message, announcing: letter(7))
                _ = try await session.send(letter(8).envelope, message: letter(8).message)
            }
        }
        _ = try await client.session { session in try await session.send(letter(9).envelope, message: letter(9).message) }
        try await sink.waitForMessages(6)
        #expect(Set(sink.recipients()) == ["r1@example.test", "r2@example.test", "r3@example.test", "r4@example.test", "r6@example.test", "r9@example.test"])
    }

    @Test("a server that never greets times out; a closed port fails to connect")
    func timeouts() async throws {
        // A listening socket that never accepts: the connection is made by the kernel, and no greeting ever comes.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let port = FreePort.next()
        address.sin_port = UInt16(port).bigEndian
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        #expect(listen(fd, 8) == 0)
        var client = SMTPClient(host: "127.0.0.1", port: port, heloName: "sender.test")
        client.timeouts.command = .milliseconds(300)
        await #expect { try await client.session { _ in () } } throws: { error in
            guard case .timedOut(let stage) = error as? SMTPError else { return false }
            return stage == "the greeting"
        }
        let closed = SMTPClient(host: "127.0.0.1", port: FreePort.next(), heloName: "sender.test")
        await #expect { try await closed.session { _ in () } } throws: { error in
            guard case .connectionFailed = error as? SMTPError else { return false }
            return true
        }
    }
}

@Suite("SMTP replies and dot-stuffing")
struct SMTPWireTests {
    @Test func enhancedStatus() {
        #expect(SMTPReply(code: 550, lines: ["5.1.1 <x@y>: user unknown"]).enhancedStatus == "5.1.1")
        #expect(SMTPReply(code: 421, lines: ["4.7.0 try again later"]).enhancedStatus == "4.7.0")
        #expect(SMTPReply(code: 550, lines: ["4.1.1 mismatched class"]).enhancedStatus == nil)
        #expect(SMTPReply(code: 250, lines: ["OK"]).enhancedStatus == nil)
    }

    @Test func capabilities() {
        let ehlo = SMTPReply(code: 250, lines: ["mx.test", "PIPELINING", "SIZE 1000", "STARTTLS", "AUTH PLAIN LOGIN", "8BITMIME", "SMTPUTF8"])
        let c = SMTPCapabilities(ehlo: ehlo)
        #expect(c.pipelining && c.startTLS && c.eightBitMIME && c.smtpUTF8)
        #expect(c.maximumSize == 1000)
        #expect(c.authentication == ["PLAIN", "LOGIN"])
    }

    @Test func dotStuffing() {
        func stuffed(_ text: String) -> String {
            var buffer = ByteBufferAllocator().buffer(capacity: 64)
            SMTPSession.appendDotStuffed(Array(text.utf8), to: &buffer)
            return buffer.readString(length: buffer.readableBytes)!
        }
        #expect(stuffed("a\r\nb\r\n") == "a\r\nb\r\n.\r\n")
        #expect(stuffed(".start\r\n") == "..start\r\n.\r\n")
        #expect(stuffed("a\r\n.\r\n..b\r\nc.d\r\n") == "a\r\n..\r\n...b\r\nc.d\r\n.\r\n")
        #expect(stuffed("no end") == "no end\r\n.\r\n")
        #expect(stuffed("ends in a dot line\r\n.") == "ends in a dot line\r\n..\r\n.\r\n")
        #expect(stuffed("") == "\r\n.\r\n")
    }

    @Test func eightBitDetection() {
        #expect(!SMTPSession.hasEightBitBytes(Array("plain ASCII text, longer than one word".utf8)))
        #expect(SMTPSession.hasEightBitBytes(Array("word-aligned é here".utf8)))
        #expect(SMTPSession.hasEightBitBytes(Array("1234567890123456é".utf8)))
        #expect(!SMTPSession.hasEightBitBytes([]))
    }
}
