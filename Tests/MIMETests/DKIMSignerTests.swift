import Foundation
import HeraldTesting
import MIME
import Testing

/// Messages built and DKIM-signed here, verified by an independent verifier: dkimpy (PyPI,
/// pinned in the development virtualenv), given our DNS record for the selector.
@Suite struct DKIMSignerTests {
    static func message() -> MailMessage {
        MailMessage(from: MailAddress("shop@herald.example", name: "Магазин «Лыжи»"), to: [MailAddress("anna@example.com", name: "Anna")],
                    subject: "Весенняя распродажа: скидка 20% на лыжи и санки до воскресенья — только для подписчиков",
                    text: "Привет, Анна!\nСкидка 20%   на лыжи.  \n\n\n", html: "<p>Привет, <b>Анна</b>!</p>\n<p>" + String(repeating: "Очень длинная строка текста. ", count: 20) + "</p>",
                    date: Date(timeIntervalSince1970: 1_796_000_000), messageID: "m1.c42@herald.example",
                    unsubscribeURL: "https://track.herald.example/u/TOKEN", unsubscribeMailto: "unsubscribe+TOKEN@herald.example",
                    headers: [("Feedback-ID", "campaign42:account1:herald")])
    }

    /// dkimpy's verdict on `signed`, given `record` at `selector._domainkey.herald.example`.
    static func verify(_ signed: [UInt8], selector: String, record: String) async throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-dkim-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(signed).write(to: folder.appendingPathComponent("message.eml"))
        try """
            import dkim, sys
            record = sys.argv[2].encode()
            def dns(name, timeout=5):
                return record if name == b"\(selector)._domainkey.herald.example." else None
            data = open(sys.argv[1], "rb").read()
            print("pass" if dkim.verify(data, dnsfunc=dns) else "fail")
            """.write(to: folder.appendingPathComponent("verify.py"), atomically: true, encoding: .utf8)
        let python = TestEnvironment.repositoryRoot.appendingPathComponent(".stack/venv/bin/python").path
        let run = try ChildProcess(executable: python, arguments: [folder.appendingPathComponent("verify.py").path, folder.appendingPathComponent("message.eml").path, record])
        _ = await run.waitForExit(timeout: .seconds(60))
        return run.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func key(_ arguments: [String]) async throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-key-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("key.pem").path
        let run = try ChildProcess(executable: "/usr/bin/openssl", arguments: arguments + ["-out", path])
        guard await run.waitForExit(timeout: .seconds(60)) == 0 else { throw TestServerError(message: "openssl: \(run.output)") }
        return try String(contentsOfFile: path, encoding: .utf8)
    }

    @Test func rsaAndEd25519SignaturesVerifyWithAnIndependentVerifier() async throws {
        let rsa = try DKIMSigner(domain: "herald.example", selector: "rsa1", key: DKIMSigner.key(pem: try await Self.key(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])))
        let ed = try DKIMSigner(domain: "herald.example", selector: "ed1", key: DKIMSigner.key(pem: try await Self.key(["genpkey", "-algorithm", "ED25519"])))
        let bytes = Self.message().rendered(boundary: "BOUNDARY")
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("Subject: =?UTF-8?B?") && text.contains("Content-Type: multipart/alternative") && !text.contains("Привет"))
        #expect(text.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 }, "no line longer than 78")
        for signer in [rsa, ed] {
            let signed = try signer.sign(bytes)
            let header = String(decoding: signed, as: UTF8.self).components(separatedBy: "\r\n\r\n")[0]
            #expect(header.contains("list-unsubscribe:list-unsubscribe-post") && header.contains("c=relaxed/relaxed"))
            #expect(try await Self.verify(signed, selector: signer.selector, record: signer.dnsRecord) == "pass", "\(signer.selector)")
            // A change after signing breaks the signature.
            var tampered = String(decoding: signed, as: UTF8.self)
            tampered = tampered.replacingOccurrences(of: "List-Unsubscribe-Post: List-Unsubscribe=One-Click", with: "List-Unsubscribe-Post: nothing")
            #expect(try await Self.verify(Array(tampered.utf8), selector: signer.selector, record: signer.dnsRecord) == "fail", "\(signer.selector)")
        }
    }

    @Test func aShortRSAKeyIsRefused() async throws {
        let pem = try await Self.key(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:512"])
        #expect(throws: DKIMSigner.Failure.self) { _ = try DKIMSigner.key(pem: pem) }
    }
}
