import Foundation
import Security
import Testing

@Suite struct TimeBasedOneTimePasswordTests {
    /// RFC 6238 Appendix B, SHA-1 rows: the 20-byte ASCII secret "12345678901234567890", 8 digits.
    @Test(arguments: [
        (59.0, "94287082"), (1_111_111_109.0, "07081804"), (1_111_111_111.0, "14050471"),
        (1_234_567_890.0, "89005924"), (2_000_000_000.0, "69279037"), (20_000_000_000.0, "65353130"),
    ])
    func rfc6238Vectors(time: Double, expected: String) {
        let totp = TimeBasedOneTimePassword(secret: Array("12345678901234567890".utf8), digits: 8)
        #expect(totp.code(at: Date(timeIntervalSince1970: time)) == expected)
    }

    @Test func verifyAcceptsOneStepOfDriftAndNoMore() {
        let totp = TimeBasedOneTimePassword(secret: Array("12345678901234567890".utf8))
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(totp.verify(totp.code(at: now.addingTimeInterval(-30)), at: now) == 1_700_000_000 / 30 - 1)
        #expect(totp.verify(totp.code(at: now.addingTimeInterval(30)), at: now) == 1_700_000_000 / 30 + 1)
        #expect(totp.verify(totp.code(at: now.addingTimeInterval(-90)), at: now) == nil)
        #expect(totp.verify("12345", at: now) == nil)
        #expect(totp.verify("abcdef", at: now) == nil)
    }

    @Test func base32RoundTripsAndMatchesRFC4648() {
        // RFC 4648 section 10 (without padding).
        #expect(Base32.encode(Array("foobar".utf8)) == "MZXW6YTBOI")
        #expect(Base32.encode(Array("f".utf8)) == "MY")
        #expect(Base32.decode("mzxw 6ytb oi======").map { String(decoding: $0, as: UTF8.self) } == "foobar")
        #expect(Base32.decode("M1") == nil)
        let secret = TimeBasedOneTimePassword.generateSecret()
        #expect(Base32.decode(Base32.encode(secret)) == secret)
    }

    @Test func provisioningURINamesIssuerAccountAndSecret() {
        let totp = TimeBasedOneTimePassword(secret: Array("foobar".utf8))
        #expect(totp.provisioningURI(account: "anna@example.com", issuer: "Herald") ==
            "otpauth://totp/Herald:anna@example.com?secret=MZXW6YTBOI&issuer=Herald&digits=6&period=30")
    }
}
