/// Header text as RFC 5322 and RFC 2047 require: ASCII, lines folded before 78 characters, and
/// anything else as `=?UTF-8?B?…?=` encoded words that never split a character.
enum HeaderEncoding {
    /// `value` as encoded words of at most 75 characters each (RFC 2047 §2).
    static func encodedWords(_ value: String) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        // 36 bytes of UTF-8 make 48 base64 characters, a 60-character word: with a header name of
        // up to 16 characters the first line still fits in 78.
        for character in value {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 36 {
                words.append("=?UTF-8?B?" + base64(chunk) + "?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?" + base64(chunk) + "?=") }
        return words
    }

    /// A header line `Name: value`, encoded when needed and folded with CRLF + space.
    static func line(_ name: String, _ value: String, raw: Bool = false) -> String {
        let needsEncoding = !raw && !value.unicodeScalars.allSatisfy { $0.isASCII && ($0.value >= 32 || $0 == "\t") }
        let tokens = needsEncoding ? encodedWords(value) : value.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        var lines: [String] = []
        var current = name + ":"
        for token in tokens {
            if current.count + 1 + token.count > 78 && current.count > name.count + 1 {
                lines.append(current)
                current = ""
            }
            current += " " + token
        }
        lines.append(current)
        return lines.joined(separator: "\r\n")
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 2 < bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [table[Int(n >> 18)], table[Int(n >> 12 & 63)], table[Int(n >> 6 & 63)], table[Int(n & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out += [table[Int(n >> 18)], table[Int(n >> 12 & 63)], 61, 61]
        } else if rest == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [table[Int(n >> 18)], table[Int(n >> 12 & 63)], table[Int(n >> 6 & 63)], 61]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
