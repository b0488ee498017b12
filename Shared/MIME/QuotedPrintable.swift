/// Quoted-printable body encoding (RFC 2045 §6.7): lines of at most 76 characters with soft line
/// breaks, CRLF line ends, trailing spaces encoded, `=` and non-ASCII as `=XX`.
enum QuotedPrintable {
    static func encode(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        var lineLength = 0
        func emit(_ piece: [UInt8]) {
            if lineLength + piece.count > 75 {
                out += [61, 13, 10]  // soft break "=\r\n"
                lineLength = 0
            }
            out += piece
            lineLength += piece.count
        }
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            let bytes = Array(line.utf8)
            for (i, b) in bytes.enumerated() {
                let last = i == bytes.count - 1
                if (b >= 33 && b <= 126 && b != 61) || (b == 32 && !last) || (b == 9 && !last) {
                    emit([b])
                } else {
                    emit([61, hex[Int(b >> 4)], hex[Int(b & 15)]])
                }
            }
            if index < lines.count - 1 {
                out += [13, 10]
                lineLength = 0
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
