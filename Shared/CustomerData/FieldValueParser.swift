import BSON
import Foundation

/// Checks a value against its field and gives the form it is stored in:
///
/// | type | stored as | accepted |
/// |---|---|---|
/// | string | string | any text (trimmed), up to 10,000 characters |
/// | integer | int64 | `42`, `-7`, `1 000` |
/// | decimal | double | `12.5`, `12,5`, `1 234.50` |
/// | boolean | bool | true/false, yes/no, 1/0, y/n, да/нет |
/// | date | string `YYYY-MM-DD` | `2024-03-01`, `01.03.2024`, `2024-03-01T…` |
/// | date-time | datetime | ISO 8601 with a zone or `Z`; `YYYY-MM-DD HH:MM[:SS]` is taken as UTC |
/// | email | lower-cased string | `name@domain.tld` |
/// | phone | string `+` and 8–15 digits | `+7 (912) 345-67-89`, `+4930123456` |
/// | enum | string | one of the field's options (case-insensitive match, stored as defined) |
/// | list of strings | array of strings | a JSON list, or text split on `;` `,` `|` |
/// | table | array of documents | a JSON list of objects with the table's columns |
///
/// A decimal is kept as a double: 15 significant digits, exact for money up to 10^13 with cents.
/// (Decimal128 is not portable: the development store cannot hold it.)
public enum FieldValueParser {
    /// Why a value does not fit its field (the message says how to fix it).
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public let field: String
        public let message: String
        public var description: String { "\(field): \(message)" }

        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    public static func parse(_ input: FieldInput, as field: FieldDefinition, path: String? = nil) -> Result<BSONValue, Failure> {
        let name = path ?? field.key
        func fail(_ message: String) -> Result<BSONValue, Failure> { .failure(Failure(field: name, message: message)) }
        if input.isEmpty { return field.required ? fail("a value is required") : .success(.null) }
        switch field.type {
        case .string:
            guard let text = scalarText(input) else { return fail("expected text") }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            return trimmed.count <= 10_000 ? .success(.string(trimmed)) : fail("text longer than 10,000 characters")
        case .integer:
            switch input {
            case .number(let number) where number.rounded() == number && abs(number) < 9e15: return .success(.int64(Int64(number)))
            case .text(let text):
                let digits = text.filter { !$0.isWhitespace && $0 != "\u{00A0}" }
                if let value = Int64(digits) { return .success(.int64(value)) }
                return fail("'\(text)' is not a whole number")
            default: return fail("expected a whole number")
            }
        case .decimal:
            switch input {
            case .number(let number) where number.isFinite: return .success(.double(number))
            case .text(let text):
                let normalized = text.filter { !$0.isWhitespace && $0 != "\u{00A0}" }.replacingOccurrences(of: ",", with: ".")
                if let value = Double(normalized), value.isFinite, normalized.allSatisfy({ $0.isNumber || $0 == "." || $0 == "-" || $0 == "+" || $0 == "e" || $0 == "E" }) {
                    return .success(.double(value))
                }
                return fail("'\(text)' is not a number (use 1234.56 or 1234,56)")
            default: return fail("expected a number")
            }
        case .boolean:
            switch input {
            case .bool(let value): return .success(.bool(value))
            case .number(let number) where number == 0 || number == 1: return .success(.bool(number == 1))
            case .text(let text):
                switch text.trimmingCharacters(in: .whitespaces).lowercased() {
                case "true", "yes", "y", "1", "on", "да", "д": return .success(.bool(true))
                case "false", "no", "n", "0", "off", "нет", "н": return .success(.bool(false))
                default: return fail("'\(text)' is not yes or no (use true/false, yes/no or 1/0)")
                }
            default: return fail("expected true or false")
            }
        case .date:
            guard let text = scalarText(input), let date = parseDate(text) else { return fail("not a date; use YYYY-MM-DD or DD.MM.YYYY") }
            return .success(.string(date))
        case .dateTime:
            guard let text = scalarText(input), let date = parseDateTime(text) else {
                return fail("not a date and time; use ISO 8601, e.g. 2024-03-01T09:30:00Z")
            }
            return .success(.date(date))
        case .email:
            guard let text = scalarText(input) else { return fail("expected an e-mail address") }
            let email = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            return isEmail(email) ? .success(.string(email)) : fail("'\(text)' is not an e-mail address")
        case .phone:
            guard let text = scalarText(input) else { return fail("expected a phone number") }
            guard let phone = normalizePhone(text) else { return fail("'\(text)' is not a phone number in international form (+ country code, 8–15 digits)") }
            return .success(.string(phone))
        case .enumeration:
            guard let text = scalarText(input)?.trimmingCharacters(in: .whitespaces) else { return fail("expected one of: \(field.options.joined(separator: ", "))") }
            guard let option = field.options.first(where: { $0.caseInsensitiveCompare(text) == .orderedSame }) else {
                return fail("'\(text)' is not one of: \(field.options.joined(separator: ", "))")
            }
            return .success(.string(option))
        case .stringList:
            let items: [String]
            switch input {
            case .list(let list):
                var texts: [String] = []
                for item in list {
                    guard let text = scalarText(item) else { return fail("expected a list of texts") }
                    texts.append(text)
                }
                items = texts
            case .text(let text):
                let separator: Character = text.contains(";") ? ";" : text.contains("|") ? "|" : ","
                items = text.split(separator: separator).map(String.init)
            default: return fail("expected a list of texts")
            }
            let cleaned = items.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            return .success(.array(cleaned.map { .string($0) }))
        case .table:
            let rows: [FieldInput]
            switch input {
            case .list(let list): rows = list
            case .text(let text):
                guard let data = text.data(using: .utf8), let parsed = try? JSONDecoder().decode([FieldInput].self, from: data) else {
                    return fail("expected a JSON list of rows, e.g. [{\"\(field.columns.first?.key ?? "column")\": …}]")
                }
                rows = parsed
            default: return fail("expected a list of rows")
            }
            var stored: [BSONValue] = []
            for (index, row) in rows.enumerated() {
                guard case .object(let cells) = row else { return fail("row \(index + 1) is not an object") }
                if let unknown = cells.keys.sorted().first(where: { key in !field.columns.contains { $0.key == key } }) {
                    return fail("row \(index + 1) has the column '\(unknown)', which the table does not define")
                }
                var document = BSONDocument()
                for column in field.columns {
                    switch parse(cells[column.key] ?? .null, as: column, path: "\(name)[\(index + 1)].\(column.key)") {
                    case .success(.null): continue
                    case .success(let value): document.append(column.key, value)
                    case .failure(let failure): return .failure(failure)
                    }
                }
                stored.append(.document(document))
            }
            return .success(.array(stored))
        }
    }

    static func scalarText(_ input: FieldInput) -> String? {
        switch input {
        case .text(let text): text
        case .number(let number): number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .bool(let value): String(value)
        default: nil
        }
    }

    static func isEmail(_ text: String) -> Bool {
        guard text.count <= 254, let at = text.lastIndex(of: "@"), at != text.startIndex else { return false }
        let local = text[..<at], domain = text[text.index(after: at)...]
        guard local.count <= 64, !local.contains(" "), !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..") else { return false }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, let tld = labels.last, tld.count >= 2, tld.allSatisfy(\.isLetter) else { return false }
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
        } && local.allSatisfy { $0.isLetter || $0.isNumber || "!#$%&'*+/=?^_`{|}~.-".contains($0) }
    }

    /// `+` and 8–15 digits; spaces, dashes, dots and parentheses are dropped; a leading `00` becomes `+`.
    static func normalizePhone(_ text: String) -> String? {
        var raw = text.trimmingCharacters(in: .whitespaces)
        if raw.hasPrefix("00") { raw = "+" + raw.dropFirst(2) }
        guard raw.hasPrefix("+") else { return nil }
        var digits = ""
        for character in raw.dropFirst() {
            if character.isASCII, character.isNumber { digits.append(character) } else if !" -.()\u{00A0}".contains(character) { return nil }
        }
        guard (8...15).contains(digits.count), digits.first != "0" else { return nil }
        return "+" + digits
    }

    static func parseDate(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var year = 0, month = 0, day = 0
        let parts = trimmed.prefix(10).split(whereSeparator: { $0 == "-" || $0 == "." || $0 == "/" }).map(String.init)
        guard parts.count == 3 else { return nil }
        if parts[0].count == 4, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]) {
            (year, month, day) = (y, m, d)
        } else if parts[2].count == 4, let d = Int(parts[0]), let m = Int(parts[1]), let y = Int(parts[2]) {
            (year, month, day) = (y, m, d)
        } else {
            return nil
        }
        guard trimmed.count == 10 || trimmed.dropFirst(10).first == "T" || trimmed.dropFirst(10).first == " " else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard (1...9999).contains(year), let date = calendar.date(from: DateComponents(year: year, month: month, day: day)),
              calendar.component(.day, from: date) == day, calendar.component(.month, from: date) == month
        else { return nil }
        return String(format: "%04d-%02d-%02d", year, month, day)
    }

    /// A date and time as the date-time field type accepts it (ISO 8601; no zone means UTC).
    public static func parseDateTimePublic(_ text: String) -> Date? { parseDateTime(text) }

    /// `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]` (or a space for `T`; no zone is UTC) without a
    /// formatter: event timestamps arrive by the thousand, and formatters cost microseconds each.
    static func fastDateTime(_ b: [UInt8]) -> Date? {
        func digits(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var value = 0
            for i in from..<(from + count) {
                let d = Int(b[i]) - 48
                guard (0...9).contains(d) else { return nil }
                value = value * 10 + d
            }
            return value
        }
        guard b.count >= 19, b[4] == 45, b[7] == 45, b[10] == 84 || b[10] == 32, b[13] == 58, b[16] == 58,
              let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2), let hour = digits(11, 2), let minute = digits(14, 2),
              let second = digits(17, 2), (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var fraction = 0.0
        if index < b.count, b[index] == 46 {
            index += 1
            var scale = 0.1
            while index < b.count, (48...57).contains(b[index]) {
                fraction += Double(b[index] - 48) * scale
                scale /= 10
                index += 1
            }
        }
        var offset = 0
        if index < b.count {
            if b[index] == 90, index + 1 == b.count {
                index += 1
            } else if b[index] == 43 || b[index] == 45, let h = digits(index + 1, 2) {
                let m: Int
                if index + 6 == b.count, b[index + 3] == 58, let mm = digits(index + 4, 2) { m = mm } else if index + 5 == b.count, let mm = digits(index + 3, 2) { m = mm } else { return nil }
                offset = (h * 3600 + m * 60) * (b[index] == 43 ? 1 : -1)
                index = b.count
            } else {
                return nil
            }
        }
        guard index == b.count else { return nil }
        // Days from 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        // A day the month does not have (31 April) is refused, as the formatters do.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        if day > 28, let range = calendar.range(of: .day, in: .month, for: calendar.date(from: DateComponents(year: year, month: month, day: 1))!), day > range.count {
            return nil
        }
        return Date(timeIntervalSince1970: Double(days * 86400 + hour * 3600 + minute * 60 + second - offset) + fraction)
    }

    static func parseDateTime(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let bytes = Array(trimmed.utf8)
        // The ISO shape is decided here alone: the formatters below would roll 30 February over into March.
        if bytes.count >= 19, bytes[4] == 45, bytes[7] == 45, bytes[10] == 84 || bytes[10] == 32 { return fastDateTime(bytes) }
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = ISO8601DateFormatter().date(from: trimmed) ?? withFraction.date(from: trimmed) { return date }
        // Without a zone: UTC.
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        for format in ["yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "dd.MM.yyyy HH:mm:ss", "dd.MM.yyyy HH:mm", "yyyy-MM-dd"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: trimmed) { return date }
        }
        return nil
    }
}
