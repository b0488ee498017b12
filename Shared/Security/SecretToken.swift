import Crypto
import Foundation

/// Random bearer secrets (session cookies, CSRF tokens, API tokens) and the digests they are
/// stored as: a stolen database copy holds no usable session or token.
public enum SecretToken {
    /// `bytes` random bytes as unpadded base64url, with an optional prefix (`hrld_` marks API tokens
    /// so secret scanners can find leaked ones).
    public static func generate(bytes: Int = 32, prefix: String = "") -> String {
        var generator = SystemRandomNumberGenerator()
        let raw = (0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let base64 = Data(raw).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return prefix + base64
    }

    /// The SHA-256 of `secret` in lower-case hex: what is stored and looked up.
    public static func digest(_ secret: String) -> String {
        SHA256.hash(data: Array(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Compares two secrets in time that does not depend on where they differ.
    public static func matches(_ a: String, _ b: String) -> Bool { constantTimeEquals(a, b) }
}
