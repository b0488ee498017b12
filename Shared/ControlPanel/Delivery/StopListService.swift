import BSON
import CustomerData
import Foundation
import Imports
import Mongo
import Security

/// The stop list for the panel and the API: search, add, remove with a reason, import, export;
/// every change in the audit log. Needs `channels:view` to read and `channels:edit` to change.
public struct StopListService: Sendable {
    public let list: StopList
    let audit: AuditLog

    public init(settings: MongoDatabase, audit: AuditLog) {
        list = StopList(settings: settings)
        self.audit = audit
    }

    public func prepare() async throws { try await list.prepare() }

    /// Entries matching `query` (a part of the value), newest first.
    public func search(_ query: String, kind: StopListEntry.Kind?, skip: Int = 0, limit: Int = 100, for identity: Identity) async throws -> (entries: [StopListEntry], total: Int) {
        try identity.require(.channels, .view)
        var filter: BSONDocument = ["accountId": .string(identity.account._id)]
        if let kind { filter.append("kind", .string(kind.rawValue)) }
        let trimmed = query.trimmingCharacters(in: .whitespaces).lowercased()
        if !trimmed.isEmpty { filter.append("value", ["$regex": .string(NSRegularExpression.escapedPattern(for: trimmed))]) }
        let entries = try await list.entries.find(filter, options: FindOptions(sort: ["createdAt": -1, "_id": 1], skip: skip, limit: limit)).collect()
        return (entries, try await list.entries.countDocuments(filter))
    }

    public func add(_ raw: String, kind: StopListEntry.Kind, reason: String, by identity: Identity) async throws -> StopListEntry {
        try identity.require(.channels, .edit)
        let value: String
        switch StopListEntry.normalize(raw, as: kind) {
        case .success(let normalized): value = normalized
        case .failure(let failure): throw InvalidInput("value", "invalid_value", failure.message)
        }
        let entry = StopListEntry(accountId: identity.account._id, kind: kind, value: value, reason: reason.trimmingCharacters(in: .whitespaces),
                                  source: .manual, by: identity.user.login)
        guard try await list.add(entry) else { throw InvalidInput("value", "already_listed", value) }
        try await audit.record(identity.actor, "stop_list.add", kind: "stop_list", id: entry._id, name: value,
                               changes: [.init(field: "reason", before: nil, after: entry.reason)])
        return entry
    }

    /// Removes an entry; the reason is required and kept in the audit log.
    public func remove(_ raw: String, kind: StopListEntry.Kind, reason: String, by identity: Identity) async throws {
        try identity.require(.channels, .edit)
        let reason = reason.trimmingCharacters(in: .whitespaces)
        guard !reason.isEmpty else { throw InvalidInput("reason", "reason_required") }
        let value = (try? StopListEntry.normalize(raw, as: kind).get()) ?? raw.lowercased()
        let id = "\(identity.account._id):\(kind.rawValue):\(value)"
        guard let entry = try await list.entries.findOne(["_id": .string(id)]) else { throw ObjectNotFound("stop_list", value) }
        _ = try await list.entries.deleteOne(["_id": .string(id)])
        try await audit.record(identity.actor, "stop_list.remove", kind: "stop_list", id: id, name: value,
                               changes: [.init(field: "listed", before: "\(entry.source.rawValue): \(entry.reason)", after: nil), .init(field: "reason", before: nil, after: reason)])
    }

    /// Imports lines of `value[,reason]` (a kind per line is guessed: a phone, an address, a
    /// domain); returns how many were added, already there, and the bad lines with their numbers.
    public func importLines(_ text: String, reason: String, by identity: Identity) async throws -> (added: Int, present: Int, rejected: [(line: Int, message: String)]) {
        try identity.require(.channels, .edit)
        var added = 0, present = 0, rejected: [(Int, String)] = []
        // The import's own CSV reader: quoted fields, line numbers, malformed quotes reported.
        var reader = DelimitedTextReader(delimiter: ",", encoding: .utf8)
        let start = reader.feed(Array(text.utf8)), end = reader.finish()
        rejected += (start.problems + end.problems).map { ($0.line, $0.message) }
        for row in start.rows + end.rows {
            // A leading `'` is how exports keep a spreadsheet from reading `+47…` as a formula.
            var parts = row.fields.map { field in
                let trimmed = field.trimmingCharacters(in: .whitespaces)
                return trimmed.hasPrefix("'") ? String(trimmed.dropFirst()) : trimmed
            }
            // An exported file reads back: kind,value,reason,… (the kind column is then skipped).
            if parts.count >= 4, StopListEntry.Kind(rawValue: parts[0]) != nil { parts.removeFirst() }
            guard let raw = parts.first, !raw.isEmpty, row.line > 1 || !["value", "address", "email", "kind"].contains(raw.lowercased()) else { continue }
            let kind: StopListEntry.Kind = raw.contains("@") && !raw.hasPrefix("@") ? .address : (raw.first == "+" || raw.allSatisfy { $0.isNumber || " -()".contains($0) }) ? .phone : .domain
            switch StopListEntry.normalize(raw, as: kind) {
            case .failure(let failure): rejected.append((row.line, failure.message))
            case .success(let value):
                let entry = StopListEntry(accountId: identity.account._id, kind: kind, value: value, reason: parts.count > 1 ? parts[1] : reason,
                                          source: .import, by: identity.user.login)
                if try await list.add(entry) { added += 1 } else { present += 1 }
            }
        }
        try await audit.record(identity.actor, "stop_list.import", kind: "stop_list", changes: [
            .init(field: "added", before: nil, after: String(added)), .init(field: "rejected", before: nil, after: String(rejected.count)),
        ])
        return (added, present, rejected)
    }

    /// The whole list as CSV (`kind,value,reason,source,created_at,created_by`), audited.
    public func export(by identity: Identity) async throws -> String {
        try identity.require(.channels, .view)
        var csv = "kind,value,reason,source,created_at,created_by\r\n"
        for try await entry in list.entries.find(["accountId": .string(identity.account._id)], options: FindOptions(sort: ["createdAt": 1])) {
            csv += [entry.kind.rawValue, entry.value, entry.reason, entry.source.rawValue, entry.createdAt.formatted(.iso8601), entry.createdBy]
                .map(AuditCSV.field).joined(separator: ",") + "\r\n"
        }
        try await audit.record(identity.actor, "stop_list.export", kind: "stop_list")
        return csv
    }
}
