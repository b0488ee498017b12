import BSON
import CustomerData
import Foundation
import ServiceSupport

/// A scheduled import from an external SQL database: a saved query, an incremental cursor column
/// (each run reads only rows past the last value seen), a column → field mapping, and how often.
public struct SQLSync: Codable, Sendable, Equatable {
    public enum Engine: String, Codable, Sendable, CaseIterable {
        case postgresql, mysql

        /// The engine a URL names: `postgresql://`/`postgres://`, or `mysql://`/`mariadb://`.
        public init?(url: String) {
            if url.hasPrefix("postgresql://") || url.hasPrefix("postgres://") { self = .postgresql }
            else if url.hasPrefix("mysql://") || url.hasPrefix("mariadb://") { self = .mysql }
            else { return nil }
        }

        /// How the engine quotes a column name.
        func quote(_ column: String) -> String { self == .mysql ? "`\(column)`" : "\"\(column)\"" }
    }

    public var _id: String
    public var accountId: String
    public var databaseId: String
    public var name: String
    public var engine: Engine
    /// `postgresql://…` or `mysql://user:password@host:port/database` — a secret, never shown back in full.
    public var url: String
    /// A SELECT; each run reads it as a subquery, past the cursor, in pages of 1,000 rows.
    public var query: String
    /// A column of the query that grows with every new or changed row (an id, an `updated_at`).
    public var cursorColumn: String
    /// The largest cursor value imported so far; nil before the first run.
    public var lastCursor: String?
    /// Column name → field key; columns not named are skipped.
    public var mapping: [String: String]
    public var mode: ProfileWriter.Mode
    public var intervalMinutes: Int
    /// A cron-like schedule (`0 3 * * *`) read in `timeZone`; when set, it decides the runs instead of `intervalMinutes`.
    public var cron: String?
    /// The IANA time zone of `cron` (UTC when nil).
    public var timeZone: String?
    /// 0 pauses the schedule (Unix seconds of the next run otherwise).
    public var nextRun: Int64
    public var lastJobId: String?
    public var createdAt: Date

    public init(accountId: String, databaseId: String, name: String, url: String, query: String, cursorColumn: String,
                mapping: [String: String], mode: ProfileWriter.Mode, intervalMinutes: Int)
    {
        _id = ObjectId().hex
        self.accountId = accountId
        self.databaseId = databaseId
        self.name = name
        engine = Engine(url: url) ?? .postgresql
        self.url = url
        self.query = query
        self.cursorColumn = cursorColumn
        self.mapping = mapping
        self.mode = mode
        self.intervalMinutes = intervalMinutes
        nextRun = Int64(Date().timeIntervalSince1970)
        createdAt = Date()
    }

    /// When the sync runs next after `now` (Unix seconds): by its cron-like schedule, else after its interval.
    public func nextRun(after now: Date) -> Int64 {
        if let cron, let schedule = try? CronSchedule(cron), let next = schedule.next(after: now, in: TimeZone(identifier: timeZone ?? "UTC") ?? .gmt) {
            return Int64(next.timeIntervalSince1970)
        }
        return Int64(now.timeIntervalSince1970) + Int64(intervalMinutes) * 60
    }

    /// The URL with its password replaced, for pages and answers.
    public var redactedURL: String { Self.redacted(url) }

    /// A connection URL with its password replaced by `***`.
    public static func redacted(_ url: String) -> String {
        guard let at = url.firstIndex(of: "@"), let scheme = url.range(of: "://"), let colon = url[scheme.upperBound..<at].firstIndex(of: ":") else { return url }
        return String(url[..<url.index(after: colon)]) + "***" + String(url[at...])
    }

    /// Problems with the settings, as (field, message).
    public func problems() -> [(field: String, message: String)] {
        var found: [(String, String)] = []
        if name.trimmingCharacters(in: .whitespaces).isEmpty { found.append(("name", "give the sync a name")) }
        if Engine(url: url) == nil { found.append(("url", "use postgresql://user:password@host:port/database or mysql://user:password@host:port/database")) }
        let select = query.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if !(select.hasPrefix("select") || select.hasPrefix("with")) || select.contains(";") {
            found.append(("query", "one SELECT (or WITH … SELECT) without a semicolon"))
        }
        if !Self.isIdentifier(cursorColumn) { found.append(("cursorColumn", "a column name of letters, digits and _")) }
        if !(1...43200).contains(intervalMinutes) { found.append(("intervalMinutes", "use 1 minute to 30 days")) }
        if let cron {
            do { _ = try CronSchedule(cron) } catch { found.append(("cron", "\(error) (minute hour day-of-month month day-of-week, e.g. 0 3 * * *)")) }
        }
        if let timeZone, TimeZone(identifier: timeZone) == nil { found.append(("timeZone", "'\(timeZone)' is not a time zone (Europe/Moscow)")) }
        if mapping.isEmpty { found.append(("mapping", "map at least one column to a field")) }
        return found
    }

    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.count <= 63, first == "_" || CharacterSet.letters.contains(first) else { return false }
        return text.unicodeScalars.allSatisfy { $0 == "_" || CharacterSet.alphanumerics.contains($0) }
    }
}
