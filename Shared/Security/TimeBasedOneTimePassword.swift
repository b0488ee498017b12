import Crypto
import Foundation

/// RFC 6238 time-based one-time passwords (HMAC-SHA-1, 30-second steps, 6 digits: what every
/// authenticator app uses), the optional second login factor.
public struct TimeBasedOneTimePassword: Sendable {
    public let secret: [UInt8]
    public let digits: Int
    public let step: Int

    public init(secret: [UInt8], digits: Int = 6, step: Int = 30) {
        self.secret = secret
        self.digits = digits
        self.step = step
    }

    /// A new random 160-bit secret.
    public static func generateSecret() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<20).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// The code for the step that holds `date`, zero-padded to `digits`.
    public func code(at date: Date) -> String {
        code(counter: UInt64(max(0, date.timeIntervalSince1970) / Double(step)))
    }

    func code(counter: UInt64) -> String {
        let message = withUnsafeBytes(of: counter.bigEndian) { Array($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let value = (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let text = String(value % modulus)
        return String(repeating: "0", count: digits - text.count) + text
    }

    /// Whether `code` is right for `date` or one step either side (clock drift), and which step it
    /// matched, so a caller can refuse a code used before.
    public func verify(_ code: String, at date: Date, window: Int = 1) -> UInt64? {
        let trimmed = code.filter { !$0.isWhitespace }
        guard trimmed.count == digits, trimmed.allSatisfy(\.isASCII), trimmed.allSatisfy(\.isNumber) else { return nil }
        let now = Int64(max(0, date.timeIntervalSince1970)) / Int64(step)
        for delta in -window...window {
            let counter = now + Int64(delta)
            if counter >= 0, constantTimeEquals(self.code(counter: UInt64(counter)), trimmed) { return UInt64(counter) }
        }
        return nil
    }

    /// The `otpauth://` URI an authenticator app reads (by QR code or pasted).
    public func provisioningURI(account: String, issuer: String) -> String {
        func encode(_ text: String) -> String {
            text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~@"))) ?? text
        }
        return "otpauth://totp/\(encode(issuer)):\(encode(account))?secret=\(Base32.encode(secret))&issuer=\(encode(issuer))&digits=\(digits)&period=\(step)"
    }
}

func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var difference: UInt8 = 0
    for i in x.indices { difference |= x[i] ^ y[i] }
    return difference == 0
}
