/// The plain-text alternative of an HTML email, made from the HTML: what text-only mail clients
/// and spam filters read. Links keep their address, images their alt text, tables and paragraphs
/// their line breaks; styles, scripts and the head are dropped and entities decoded.
public enum PlainTextPart {
    private static let blockTags: Set<String> = [
        "p", "div", "br", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "hr", "blockquote", "section", "header", "footer", "title",
    ]
    private static let droppedTags: Set<String> = ["head", "style", "script", "noscript"]

    public static func make(fromHTML html: String) -> String {
        var out = ""
        var text = Substring(html)
        var linkTarget: String?
        var linkTextStart = out.endIndex
        var dropping: String?
        while !text.isEmpty {
            guard let lt = text.firstIndex(of: "<") else {
                if dropping == nil { out += decodeEntities(text) }
                break
            }
            if dropping == nil { out += decodeEntities(text[..<lt]) }
            guard let gt = text[lt...].firstIndex(of: ">") else { break }
            let tag = text[text.index(after: lt)..<gt]
            text = text[text.index(after: gt)...]
            if tag.hasPrefix("!--") {
                if let end = text.range(of: "-->") { text = text[end.upperBound...] }
                continue
            }
            let closing = tag.hasPrefix("/")
            let name = tag.drop(while: { $0 == "/" }).prefix { $0.isLetter || $0.isNumber }.lowercased()
            if let d = dropping {
                if closing && name == d { dropping = nil }
                continue
            }
            if droppedTags.contains(name) && !closing {
                if !tag.hasSuffix("/") { dropping = name }
                continue
            }
            switch name {
            case "a" where !closing:
                linkTarget = attribute("href", in: tag)
                linkTextStart = out.endIndex
            case "a":
                if let target = linkTarget, !target.isEmpty, !target.hasPrefix("#") {
                    let shown = out[linkTextStart...].trimmingSpaces
                    if shown != target && shown != target.replacingOccurrences(of: "mailto:", with: "") {
                        out += shown.isEmpty ? target : " (\(target))"
                    }
                }
                linkTarget = nil
            case "img":
                if let alt = attribute("alt", in: tag), !alt.isEmpty { out += alt }
            case "li" where !closing:
                out += "\n- "
            case "td", "th":
                if !closing { out += " " }
            default:
                if blockTags.contains(name) { out += "\n" }
            }
        }
        // Spaces folded within lines, at most one blank line in a row, no spaces at line ends.
        var lines: [String] = []
        for raw in out.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\u{00A0}" }).joined(separator: " ")
            if line.isEmpty && (lines.last?.isEmpty ?? true) { continue }
            lines.append(line)
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    static func attribute(_ name: String, in tag: Substring) -> String? {
        let lower = tag.lowercased()
        guard let r = lower.range(of: name + "=") else { return nil }
        let valueStart = tag.index(tag.startIndex, offsetBy: lower.distance(from: lower.startIndex, to: r.upperBound))
        var rest = tag[valueStart...]
        if let q = rest.first, q == "\"" || q == "'" {
            rest = rest.dropFirst()
            return decodeEntities(rest.prefix { $0 != q })
        }
        return decodeEntities(rest.prefix { !$0.isWhitespace && $0 != "/" })
    }

    static func decodeEntities(_ s: Substring) -> String {
        guard s.contains("&") else { return String(s).replacingOccurrences(of: "\n", with: " ") }
        var out = ""
        var rest = s
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            guard let semi = after.prefix(10).firstIndex(of: ";") else {
                out += "&"
                rest = after
                continue
            }
            let entity = after[..<semi]
            let named: [Substring: String] = ["amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ", "mdash": "—", "ndash": "–", "copy": "©", "laquo": "«", "raquo": "»", "hellip": "…"]
            if let v = named[entity] {
                out += v
            } else if entity.hasPrefix("#x") || entity.hasPrefix("#X"), let n = UInt32(entity.dropFirst(2), radix: 16), let u = Unicode.Scalar(n) {
                out.unicodeScalars.append(u)
            } else if entity.hasPrefix("#"), let n = UInt32(entity.dropFirst()), let u = Unicode.Scalar(n) {
                out.unicodeScalars.append(u)
            } else {
                out += "&" + entity + ";"
            }
            rest = after[after.index(after: semi)...]
        }
        out += rest
        return out.replacingOccurrences(of: "\n", with: " ")
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
