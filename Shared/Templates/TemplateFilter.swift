import Foundation

/// A filter: the value before the `|`, the arguments after the `:`.
typealias TemplateFilter = @Sendable (TemplateValue, [TemplateValue]) throws(TemplateRenderError) -> TemplateValue

/// The standard filters, by name.
enum TemplateFilters {
    static func invalid(_ message: String) -> TemplateRenderError { TemplateRenderError(kind: .invalidValue, message: message) }

    static func number(_ v: TemplateValue, _ filter: String) throws(TemplateRenderError) -> Double {
        guard let n = v.number else { throw invalid("\(filter) needs a number, got '\(v.text)'") }
        return n
    }

    /// Integer arithmetic stays integer, as in Liquid.
    static func arithmetic(_ name: String, _ int: @escaping @Sendable (Int, Int) -> Int?, _ double: @escaping @Sendable (Double, Double) -> Double) -> TemplateFilter {
        { (v: TemplateValue, args: [TemplateValue]) throws(TemplateRenderError) -> TemplateValue in
            guard let arg = args.first else { throw invalid("\(name) needs an argument, e.g. | \(name): 2") }
            if case .int(let a) = v, case .int(let b) = arg, let r = int(a, b) { return .int(r) }
            return .double(double(try number(v, name), try number(arg, name)))
        }
    }

    static func string(_ f: @escaping @Sendable (String, [TemplateValue]) -> String) -> TemplateFilter {
        { (v: TemplateValue, args: [TemplateValue]) throws(TemplateRenderError) -> TemplateValue in .string(f(v.text, args)) }
    }

    static let all: [String: TemplateFilter] = [
        "default": { v, args in
            (v.isTruthy && !v.isEmpty) ? v : (args.first ?? .string(""))
        },
        "upcase": string { s, _ in s.uppercased() },
        "downcase": string { s, _ in s.lowercased() },
        "capitalize": string { s, _ in s.prefix(1).uppercased() + s.dropFirst() },
        "strip": string { s, _ in s.trimmingCharacters(in: .whitespacesAndNewlines) },
        "lstrip": string { s, _ in String(s.drop(while: { $0.isWhitespace })) },
        "rstrip": string { s, _ in String(s.reversed().drop(while: { $0.isWhitespace }).reversed()) },
        "append": string { s, a in s + (a.first?.text ?? "") },
        "prepend": string { s, a in (a.first?.text ?? "") + s },
        "replace": string { s, a in s.replacingOccurrences(of: a.first?.text ?? "", with: a.dropFirst().first?.text ?? "") },
        "replace_first": string { s, a in
            guard let find = a.first?.text, !find.isEmpty, let r = s.range(of: find) else { return s }
            return s.replacingCharacters(in: r, with: a.dropFirst().first?.text ?? "")
        },
        "remove": string { s, a in s.replacingOccurrences(of: a.first?.text ?? "", with: "") },
        "truncate": string { s, a in
            let length = max(0, a.first.flatMap { $0.number }.map { Int($0) } ?? 50)
            let ellipsis = a.dropFirst().first?.text ?? "..."
            guard s.count > length else { return s }
            return String(s.prefix(max(0, length - ellipsis.count))) + ellipsis
        },
        "truncatewords": string { s, a in
            let count = max(1, a.first.flatMap { $0.number }.map { Int($0) } ?? 15)
            let ellipsis = a.dropFirst().first?.text ?? "..."
            let words = s.split(whereSeparator: { $0.isWhitespace })
            guard words.count > count else { return s }
            return words.prefix(count).joined(separator: " ") + ellipsis
        },
        "escape": string { s, _ in escapeHTML(s) },
        "escape_once": string { s, _ in escapeHTML(unescapeHTML(s)) },
        "url_encode": string { s, _ in
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-_.~")
            return (s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s)
        },
        "url_decode": string { s, _ in s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? s },
        "newline_to_br": string { s, _ in s.replacingOccurrences(of: "\n", with: "<br />\n") },
        "strip_html": string { s, _ in s.replacingOccurrences(of: "<[^>]*>", with: "", options: .regularExpression) },
        "size": { v, _ in .int(v.size) },
        "first": { v, _ in if case .array(let a) = v { a.first ?? .null } else { .string(String(v.text.prefix(1))) } },
        "last": { v, _ in if case .array(let a) = v { a.last ?? .null } else { .string(String(v.text.suffix(1))) } },
        "join": { v, a in
            guard case .array(let items) = v else { return v }
            return .string(items.map(\.text).joined(separator: a.first?.text ?? " "))
        },
        "split": { v, a in
            let separator = a.first?.text ?? " "
            return .array(v.text.components(separatedBy: separator).filter { !($0.isEmpty && separator == " ") }.map { .string($0) })
        },
        "reverse": { v, _ in if case .array(let a) = v { .array(a.reversed()) } else { v } },
        "sort": { v, a in
            guard case .array(let items) = v else { return v }
            let key = a.first?.text
            return .array(items.sorted { l, r in
                let lv = key.map { k in if case .object(let o) = l { o[k] ?? .null } else { .null } } ?? l
                let rv = key.map { k in if case .object(let o) = r { o[k] ?? .null } else { .null } } ?? r
                return TemplateRenderer.less(lv, rv)
            })
        },
        "uniq": { v, _ in
            guard case .array(let items) = v else { return v }
            var seen: [TemplateValue] = []
            for i in items where !seen.contains(i) { seen.append(i) }
            return .array(seen)
        },
        "map": { v, a in
            guard case .array(let items) = v, let key = a.first?.text else { return v }
            return .array(items.map { if case .object(let o) = $0 { o[key] ?? .null } else { .null } })
        },
        "slice": { v, a in
            let start = a.first.flatMap { $0.number }.map { Int($0) } ?? 0
            let length = a.dropFirst().first.flatMap { $0.number }.map { Int($0) } ?? 1
            if case .array(let items) = v {
                let s = start < 0 ? max(0, items.count + start) : min(start, items.count)
                return .array(Array(items[s..<min(items.count, s + max(0, length))]))
            }
            let chars = Array(v.text)
            let s = start < 0 ? max(0, chars.count + start) : min(start, chars.count)
            return .string(String(chars[s..<min(chars.count, s + max(0, length))]))
        },
        "plus": arithmetic("plus", { $0.addingReportingOverflow($1).overflow ? nil : $0 + $1 }, +),
        "minus": arithmetic("minus", { $0.subtractingReportingOverflow($1).overflow ? nil : $0 - $1 }, -),
        "times": arithmetic("times", { $0.multipliedReportingOverflow(by: $1).overflow ? nil : $0 * $1 }, *),
        "divided_by": { v, a throws(TemplateRenderError) in
            guard let arg = a.first else { throw invalid("divided_by needs an argument, e.g. | divided_by: 2") }
            if case .int(let x) = v, case .int(let y) = arg {
                guard y != 0 else { throw invalid("divided_by: division by zero") }
                return .int(Int((Double(x) / Double(y)).rounded(.down)))
            }
            let d = try number(arg, "divided_by")
            guard d != 0 else { throw invalid("divided_by: division by zero") }
            return .double(try number(v, "divided_by") / d)
        },
        "modulo": { v, a throws(TemplateRenderError) in
            guard let arg = a.first else { throw invalid("modulo needs an argument, e.g. | modulo: 2") }
            if case .int(let x) = v, case .int(let y) = arg {
                guard y != 0 else { throw invalid("modulo: division by zero") }
                return .int(x % y)
            }
            let d = try number(arg, "modulo")
            guard d != 0 else { throw invalid("modulo: division by zero") }
            return .double((try number(v, "modulo")).truncatingRemainder(dividingBy: d))
        },
        "abs": { v, _ throws(TemplateRenderError) in if case .int(let i) = v { .int(abs(i)) } else { .double(abs(try number(v, "abs"))) } },
        "ceil": { v, _ throws(TemplateRenderError) in .int(Int((try number(v, "ceil")).rounded(.up))) },
        "floor": { v, _ throws(TemplateRenderError) in .int(Int((try number(v, "floor")).rounded(.down))) },
        "round": { v, a throws(TemplateRenderError) in
            let n = try number(v, "round")
            let places = a.first.flatMap { $0.number }.map { Int($0) } ?? 0
            if places <= 0 { return .int(Int(n.rounded(.toNearestOrAwayFromZero))) }
            let p = pow(10.0, Double(places))
            return .double((n * p).rounded(.toNearestOrAwayFromZero) / p)
        },
        "at_least": { v, a throws(TemplateRenderError) in
            let n = try number(v, "at_least"), m = try number(a.first ?? .null, "at_least")
            return n >= m ? v : (a.first ?? v)
        },
        "at_most": { v, a throws(TemplateRenderError) in
            let n = try number(v, "at_most"), m = try number(a.first ?? .null, "at_most")
            return n <= m ? v : (a.first ?? v)
        },
        "money": { v, a throws(TemplateRenderError) in
            let n = try number(v, "money")
            let text = groupThousands(String(format: "%.2f", n))
            if let currency = a.first?.text, !currency.isEmpty { return .string(text + " " + currency) }
            return .string(text)
        },
        "plural": { v, a throws(TemplateRenderError) in
            guard let n = v.number, n == n.rounded() else { throw invalid("plural needs a whole number, got '\(v.text)'") }
            let forms = a.map(\.text)
            guard forms.count == 2 || forms.count == 3 else {
                throw invalid("plural takes 2 forms (one, other) or 3 Russian forms (один товар, два товара, пять товаров)")
            }
            let count = abs(Int(n))
            return .string(forms[pluralIndex(count, forms: forms.count)])
        },
        "date": { v, a throws(TemplateRenderError) in
            guard let date = parseDate(v) else { throw invalid("date needs a date (ISO 8601, 'now' or seconds since 1970), got '\(v.text)'") }
            return .string(strftime(date, a.first?.text ?? "%Y-%m-%d"))
        },
    ]

    /// 1 товар, 2 товара, 5 товаров, 21 товар, 11 товаров; English: 1 item, 2 items.
    static func pluralIndex(_ n: Int, forms: Int) -> Int {
        if forms == 2 { return n == 1 ? 0 : 1 }
        let mod10 = n % 10, mod100 = n % 100
        if mod10 == 1 && mod100 != 11 { return 0 }
        if (2...4).contains(mod10) && !(12...14).contains(mod100) { return 1 }
        return 2
    }

    static func escapeHTML(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    static func unescapeHTML(_ s: String) -> String {
        s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    static func groupThousands(_ s: String) -> String {
        let negative = s.hasPrefix("-")
        let body = negative ? String(s.dropFirst()) : s
        let parts = body.split(separator: ".", maxSplits: 1)
        var integer = Array(parts[0])
        var grouped: [Character] = []
        while integer.count > 3 {
            grouped = [","] + integer.suffix(3) + grouped
            integer.removeLast(3)
        }
        let result = String(integer + grouped) + (parts.count > 1 ? "." + parts[1] : "")
        return negative ? "-" + result : result
    }

    static func parseDate(_ v: TemplateValue) -> Date? {
        switch v {
        case .int(let i): return Date(timeIntervalSince1970: TimeInterval(i))
        case .double(let d): return Date(timeIntervalSince1970: d)
        case .string(let s):
            if s == "now" || s == "today" { return Date() }
            let iso = ISO8601DateFormatter()
            if let d = iso.date(from: s) { return d }
            iso.formatOptions = [.withFullDate]
            if let d = iso.date(from: String(s.prefix(10))) { return d }
            return nil
        default: return nil
        }
    }

    /// The strftime subset email templates use, in UTC: %Y %y %m %d %e %H %M %S %B %b %A %a %j %%.
    static func strftime(_ date: Date, _ format: String) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
        let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
        func two(_ n: Int?) -> String { String(format: "%02d", n ?? 0) }
        var out = ""
        var chars = format.makeIterator()
        while let ch = chars.next() {
            guard ch == "%" else { out.append(ch); continue }
            guard let f = chars.next() else { out.append("%"); break }
            switch f {
            case "Y": out += String(c.year ?? 0)
            case "y": out += two((c.year ?? 0) % 100)
            case "m": out += two(c.month)
            case "d": out += two(c.day)
            case "e": out += String(c.day ?? 0)
            case "H": out += two(c.hour)
            case "M": out += two(c.minute)
            case "S": out += two(c.second)
            case "B": out += months[(c.month ?? 1) - 1]
            case "b": out += String(months[(c.month ?? 1) - 1].prefix(3))
            case "A": out += days[(c.weekday ?? 1) - 1]
            case "a": out += String(days[(c.weekday ?? 1) - 1].prefix(3))
            case "j": out += String(format: "%03d", calendar.ordinality(of: .day, in: .year, for: date) ?? 0)
            case "%": out += "%"
            default: out += "%" + String(f)
            }
        }
        return out
    }
}
