/// CSV for audit exports (RFC 4180, CRLF lines, every field quoted).
public enum AuditCSV {
    /// One quoted field. A value a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR
    /// first) is prefixed with `'` so it opens as text (OWASP "CSV injection").
    public static func field(_ text: String) -> String {
        var value = text
        if let first = value.first, "=+-@\t\r".contains(first) { value = "'" + value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
