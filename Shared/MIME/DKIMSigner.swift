import Crypto
import CryptoExtras
import Foundation

/// DKIM signatures (RFC 6376) with relaxed/relaxed canonicalization, by RSA-SHA256 or
/// Ed25519-SHA256 (RFC 8463), over the headers that matter to receivers — among them
/// List-Unsubscribe and List-Unsubscribe-Post, so RFC 8058's one-click is covered. Applied last:
/// the `DKIM-Signature` header goes in front of the message.
public struct DKIMSigner: Sendable {
    public enum Key: Sendable {
        case rsa(_RSA.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public let domain: String
    public let selector: String
    let key: Key
    /// The headers signed, when the message has them.
    public static let signedHeaders = ["from", "to", "reply-to", "subject", "date", "message-id", "mime-version", "content-type",
                                       "list-unsubscribe", "list-unsubscribe-post", "feedback-id"]

    public init(domain: String, selector: String, key: Key) {
        self.domain = domain
        self.selector = selector
        self.key = key
    }

    /// A key from PEM: an RSA key (PKCS#1 or PKCS#8), or an Ed25519 key (PKCS#8).
    public static func key(pem: String) throws -> Key {
        if let rsa = try? _RSA.Signing.PrivateKey(pemRepresentation: pem) {
            guard rsa.keySizeInBits >= 1024 else { throw Failure(description: "an RSA key of \(rsa.keySizeInBits) bits is too short for DKIM; use 2048") }
            return .rsa(rsa)
        }
        if let ed = try? Curve25519.Signing.PrivateKey(pemRepresentation: pem) { return .ed25519(ed) }
        throw Failure(description: "not an RSA or Ed25519 private key in PEM")
    }

    /// The DNS TXT record receivers look up at `<selector>._domainkey.<domain>`.
    public var dnsRecord: String {
        switch key {
        case .rsa(let rsa): "v=DKIM1; k=rsa; p=\(rsa.publicKey.derRepresentation.base64EncodedString())"
        case .ed25519(let ed): "v=DKIM1; k=ed25519; p=\(ed.publicKey.rawRepresentation.base64EncodedString())"
        }
    }

    /// The message with its DKIM-Signature header first.
    public func sign(_ message: [UInt8], at time: Date = Date()) throws -> [UInt8] {
        guard let split = Self.headerEnd(message) else { throw Failure(description: "the message has no header/body separator") }
        let headers = Self.headerFields(Array(message[..<split]))
        let body = Array(message[(split + 4)...])
        let bodyHash = Data(SHA256.hash(data: Self.relaxedBody(body))).base64EncodedString()
        // The headers present, in the order of the list; the last instance of each (RFC 6376 §5.4.2).
        let present = Self.signedHeaders.filter { name in headers.contains { $0.name == name } }
        let algorithm = if case .rsa = key { "rsa-sha256" } else { "ed25519-sha256" }
        var signature = "v=1; a=\(algorithm); c=relaxed/relaxed; d=\(domain); s=\(selector); t=\(Int(time.timeIntervalSince1970)); h=\(present.joined(separator: ":")); bh=\(bodyHash); b="
        var data = ""
        for name in present {
            if let field = headers.last(where: { $0.name == name }) { data += Self.relaxedHeader(field.name, field.value) + "\r\n" }
        }
        data += Self.relaxedHeader("dkim-signature", signature)
        let signed: Data
        switch key {
        case .rsa(let rsa):
            signed = try rsa.signature(for: SHA256.hash(data: Array(data.utf8)), padding: .insecurePKCS1v1_5).rawRepresentation
        case .ed25519(let ed):
            signed = try ed.signature(for: Data(SHA256.hash(data: Array(data.utf8))))
        }
        signature += signed.base64EncodedString()
        return Array(Self.foldSignature("DKIM-Signature: " + signature).utf8) + [13, 10] + message
    }

    static func headerEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 { return i }
        return nil
    }

    /// The header fields (name in lower case, value unfolded as written).
    static func headerFields(_ bytes: [UInt8]) -> [(name: String, value: String)] {
        var fields: [(String, String)] = []
        for line in String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n") {
            if let first = line.first, first == " " || first == "\t", !fields.isEmpty {
                fields[fields.count - 1].1 += "\r\n" + line
            } else if let colon = line.firstIndex(of: ":") {
                fields.append((line[..<colon].lowercased(), String(line[line.index(after: colon)...])))
            }
        }
        return fields
    }

    /// Relaxed header canonicalization (§3.4.2): lower-case name, unfolded, runs of whitespace as one space, trimmed.
    static func relaxedHeader(_ name: String, _ value: String) -> String {
        let unfolded = value.replacingOccurrences(of: "\r\n", with: "")
        var collapsed = "", space = false
        for c in unfolded {
            if c == " " || c == "\t" { space = true; continue }
            if space, !collapsed.isEmpty { collapsed.append(" ") }
            space = false
            collapsed.append(c)
        }
        return name.lowercased().trimmingCharacters(in: .whitespaces) + ":" + collapsed
    }

    /// Relaxed body canonicalization (§3.4.4): whitespace runs as one space, none at line ends,
    /// no empty lines at the end, CRLF after the last line (an empty body stays empty).
    static func relaxedBody(_ body: [UInt8]) -> [UInt8] {
        var lines = String(decoding: body, as: UTF8.self).components(separatedBy: "\r\n")
        lines = lines.map { line in
            var out = "", space = false
            for c in line {
                if c == " " || c == "\t" { space = true; continue }
                if space { out.append(" ") }
                space = false
                out.append(c)
            }
            return out
        }
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        return lines.isEmpty ? [] : Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    /// Folds the signature header at its `; ` separators and in the middle of `b=` as needed.
    static func foldSignature(_ header: String) -> String {
        var out = "", line = ""
        for part in header.components(separatedBy: "; ") {
            let piece = line.isEmpty ? part : "; " + part
            if line.utf8.count + piece.utf8.count > 76, !line.isEmpty {
                out += line + ";\r\n\t"
                line = part
            } else {
                line += piece
            }
        }
        // A long b= value is broken with folding whitespace, which verifiers drop with the value;
        // nothing before it is broken (a space inside bh= or h= would change them).
        let start: Range<String.Index>
        if line.hasPrefix("b=") {
            start = line.startIndex..<line.index(line.startIndex, offsetBy: 2)
        } else if let tag = line.range(of: "; b=") {
            start = tag
        } else {
            return out + line
        }
        var folded = String(line[..<start.upperBound]), count = folded.count
        for c in line[start.upperBound...] {
            if count >= 72 { folded += "\r\n\t"; count = 1 }
            folded.append(c)
            count += 1
        }
        return out + folded
    }
}

extension DKIMSigner {
    /// A new private key in PKCS#8 PEM: RSA of `rsaBits` bits (2048 unless told), or Ed25519 (RFC 8463).
    public static func generateKey(ed25519: Bool, rsaBits: Int = 2048) throws -> String {
        if ed25519 { return Curve25519.Signing.PrivateKey().pemRepresentation }
        return try _RSA.Signing.PrivateKey(keySize: .init(bitCount: rsaBits)).pemRepresentation
    }
}
