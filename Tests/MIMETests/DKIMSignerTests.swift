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

    static func verify(_ signed: [UInt8], selector: String, record: String) async throws -> String {
        try await DKIMVerifier.verify(signed, domain: "herald.example", selector: selector, record: record)
    }

    static func key(_ arguments: [String]) async throws -> String { try await DKIMVerifier.opensslKey(arguments) }

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
