import Foundation

/// One part of an Internet message (RFC 5322 / 2045–2046): headers, decoded body, and its parts
/// when it is a multipart or an enclosed message.
struct MIMEPart {
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    var parts: [MIMEPart] = []

    /// The first header named `name` (any case).
    func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.count == wanted.count && $0.name.lowercased() == wanted }?.value
    }

    /// The media type in lower case, e.g. `multipart/report` (`text/plain` when absent).
    var contentType: String {
        let value = header("Content-Type") ?? "text/plain"
        return value.split(separator: ";", maxSplits: 1)[0].trimmingCharacters(in: .whitespaces).lowercased()
    }

    func parameter(_ name: String) -> String? {
        guard let value = header("Content-Type") else { return nil }
        for piece in value.split(separator: ";").dropFirst() {
            let kv = piece.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces).lowercased() == name else { continue }
            return kv[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return nil
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    /// Every part, depth first, this one included.
    var allParts: [MIMEPart] { [self] + parts.flatMap(\.allParts) }

    // MARK: Parsing

    init(headers: [(name: String, value: String)], body: [UInt8], parts: [MIMEPart] = []) {
        self.headers = headers
        self.body = body
        self.parts = parts
    }

    /// Parses `bytes` (CRLF or LF line ends); never fails: what is not MIME stays one text part.
    init(parsing bytes: ArraySlice<UInt8>, depth: Int = 0) {
        let (headers, bodyStart) = Self.parseHeaders(bytes)
        self.headers = headers
        let rawBody = bytes[bodyStart...]
        body = Self.decode(Array(rawBody), encoding: headers.first { $0.name.lowercased() == "content-transfer-encoding" }?.value)
        guard depth < 8 else { return }
        let type = contentType
        if type.hasPrefix("multipart/"), let boundary = parameter("boundary") {
            parts = Self.split(rawBody, boundary: boundary).map { MIMEPart(parsing: $0, depth: depth + 1) }
        } else if type == "message/rfc822" || type == "text/rfc822-headers" || type == "message/rfc822-headers" {
            parts = [MIMEPart(parsing: body[...], depth: depth + 1)]
        }
    }

    static func parseHeaders(_ bytes: ArraySlice<UInt8>) -> ([(name: String, value: String)], Int) {
        var headers: [(name: String, value: String)] = []
        var i = bytes.startIndex
        var current: (name: String, value: String)?
        while i < bytes.endIndex {
            var end = i
            while end < bytes.endIndex && bytes[end] != 10 { end += 1 }
            var lineEnd = end
            if lineEnd > i && bytes[lineEnd - 1] == 13 { lineEnd -= 1 }
            let next = min(end + 1, bytes.endIndex)
            if lineEnd == i {  // blank line: end of headers
                if let current { headers.append(current) }
                return (headers, next)
            }
            if bytes[i] == 32 || bytes[i] == 9, current != nil {
                current!.value += " " + trimmed(bytes[i..<lineEnd])
            } else if let colon = bytes[i..<lineEnd].firstIndex(of: 58), colon > i, !bytes[i..<colon].contains(32) {
                if let current { headers.append(current) }
                current = (String(decoding: bytes[i..<colon], as: UTF8.self), trimmed(bytes[(colon + 1)..<lineEnd]))
            } else {
                // Not a header: the part has no header block; everything is body.
                if headers.isEmpty && current == nil { return ([], bytes.startIndex) }
                if let current { headers.append(current) }
                return (headers, i)
            }
            i = next
        }
        if let current { headers.append(current) }
        return (headers, bytes.endIndex)
    }

    /// The bytes as text without leading and trailing spaces and tabs.
    static func trimmed(_ bytes: ArraySlice<UInt8>) -> String {
        var s = bytes.startIndex, e = bytes.endIndex
        while s < e && (bytes[s] == 32 || bytes[s] == 9) { s += 1 }
        while e > s && (bytes[e - 1] == 32 || bytes[e - 1] == 9 || bytes[e - 1] == 13) { e -= 1 }
        return String(decoding: bytes[s..<e], as: UTF8.self)
    }

    static func split(_ body: ArraySlice<UInt8>, boundary: String) -> [ArraySlice<UInt8>] {
        let marker = Array(("--" + boundary).utf8)
        var parts: [ArraySlice<UInt8>] = []
        var partStart: Int?
        var i = body.startIndex
        while i < body.endIndex {
            var end = i
            while end < body.endIndex && body[end] != 10 { end += 1 }
            let line = body[i..<end]
            if line.starts(with: marker) {
                if let s = partStart { parts.append(body[s..<max(s, i - 1)]) }
                let rest = line.dropFirst(marker.count)
                if rest.starts(with: [45, 45]) { return parts }  // closing boundary
                partStart = min(end + 1, body.endIndex)
            }
            i = end + 1
        }
        if let s = partStart, s < body.endIndex { parts.append(body[s..<body.endIndex]) }
        return parts
    }

    static func decode(_ body: [UInt8], encoding: String?) -> [UInt8] {
        switch encoding?.lowercased().trimmingCharacters(in: .whitespaces) {
        case "base64":
            let cleaned = body.filter { !($0 == 10 || $0 == 13 || $0 == 32) }
            return Data(base64Encoded: Data(cleaned), options: .ignoreUnknownCharacters).map { Array($0) } ?? body
        case "quoted-printable":
            var out: [UInt8] = []
            out.reserveCapacity(body.count)
            var i = 0
            func hex(_ c: UInt8) -> UInt8? {
                switch c {
                case 48...57: c - 48
                case 65...70: c - 55
                case 97...102: c - 87
                default: nil
                }
            }
            while i < body.count {
                if body[i] == 61 {  // '='
                    if i + 1 < body.count && body[i + 1] == 10 { i += 2; continue }
                    if i + 2 < body.count && body[i + 1] == 13 && body[i + 2] == 10 { i += 3; continue }
                    if i + 2 < body.count, let h = hex(body[i + 1]), let l = hex(body[i + 2]) {
                        out.append(h << 4 | l)
                        i += 3
                        continue
                    }
                }
                out.append(body[i])
                i += 1
            }
            return out
        default:
            return body
        }
    }
}
