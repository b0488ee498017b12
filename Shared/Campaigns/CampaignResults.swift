import BSON
import Foundation
import Mongo

/// What became of a run's messages, from the send log: by status, and per variant (sent, opened,
/// clicked) for A/B/n and MVT results.
public struct CampaignResults: Sendable {
    let store: CampaignStore

    public init(store: CampaignStore) { self.store = store }

    public struct Variant: Codable, Sendable, Equatable {
        public var variant: String
        public var sent: Int
        public var delivered: Int
        public var opened: Int
        public var clicked: Int
        /// Recipients whose profile recorded the conversion event after their message (with a conversion event).
        public var converted: Int
        public init(variant: String, sent: Int, delivered: Int, opened: Int, clicked: Int, converted: Int = 0) {
            self.variant = variant
            self.sent = sent
            self.delivered = delivered
            self.opened = opened
            self.clicked = clicked
            self.converted = converted
        }

        public var openRate: Double { sent == 0 ? 0 : Double(opened) / Double(sent) }
        public var clickRate: Double { sent == 0 ? 0 : Double(clicked) / Double(sent) }
        public var conversionRate: Double { sent == 0 ? 0 : Double(converted) / Double(sent) }
    }

    /// Each variant's counts in a run (observers' copies left out); with `conversionEvent`, also
    /// how many recipients' profiles recorded that activity after their message was made.
    public func variants(of runId: String, conversionEvent: String? = nil) async throws -> [Variant] {
        var byVariant: [String: Variant] = [:]
        var sentAt: [String: (variant: String, at: Date)] = [:]
        for try await send in store.sends.find(["$and": [["runId": .string(runId)], ["observer": false]]],
                                               options: FindOptions(projection: ["variant": 1, "status": 1, "openedAt": 1, "clickedAt": 1, "deliveredAt": 1,
                                                                                 "profileId": 1, "createdAt": 1]),
                                               as: BSONDocument.self) {
            let variant: String = if case .string(let v)? = send["variant"] { v } else { "" }
            var row = byVariant[variant] ?? Variant(variant: variant, sent: 0, delivered: 0, opened: 0, clicked: 0)
            if case .string(let status)? = send["status"], status != "pending", status != "failed" {
                row.sent += 1
                if case .string(let profile)? = send["profileId"], let at = send["createdAt"]?.dateValue { sentAt[profile] = (variant, at) }
            }
            if case .string(let status)? = send["status"], status == "delivered" { row.delivered += 1 }
            if let opened = send["openedAt"], opened != .null { row.opened += 1 }
            if let clicked = send["clickedAt"], clicked != .null { row.clicked += 1 }
            byVariant[variant] = row
        }
        if let conversionEvent, !conversionEvent.isEmpty, !sentAt.isEmpty {
            // Each recipient converts at most once: their profile's first such event after their message.
            var converted = Set<String>()
            let profiles = Array(sentAt.keys)
            for start in stride(from: 0, to: profiles.count, by: 5000) {
                let slice = profiles[start..<min(profiles.count, start + 5000)].map { BSONValue.string($0) }
                for try await event in store.activity.find(["profileId": ["$in": .array(slice)], "kind": .string(conversionEvent)],
                                                           options: FindOptions(projection: ["profileId": 1, "at": 1])) {
                    guard case .string(let profile)? = event["profileId"], let at = event["at"]?.dateValue, let sent = sentAt[profile],
                          at >= sent.at, converted.insert(profile).inserted else { continue }
                    byVariant[sent.variant]?.converted += 1
                }
            }
        }
        return byVariant.values.sorted { $0.variant < $1.variant }
    }

    /// A run's messages by status.
    public func statuses(of runId: String) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for try await row in store.sends.aggregate([["$match": ["$and": [["runId": .string(runId)], ["observer": false]]]],
                                                   ["$group": ["_id": "$status", "n": ["$sum": 1]]]]) {
            if case .string(let status)? = row["_id"] { counts[status] = row["n"].flatMap { if case .int32(let n) = $0 { Int(n) } else if case .int64(let n) = $0 { Int(n) } else if case .double(let n) = $0 { Int(n) } else { nil } } ?? 0 }
        }
        return counts
    }
}

extension SplitTest {
    /// The variant with the best rate of `metric` (the first on a tie).
    public static func winner(of results: [CampaignResults.Variant], by metric: Metric) -> String? {
        results.filter { !$0.variant.isEmpty }.max { a, b in
            let (x, y) = switch metric {
            case .opens: (a.openRate, b.openRate)
            case .clicks: (a.clickRate, b.clickRate)
            case .conversions: (a.conversionRate, b.conversionRate)
            }
            return x < y || (x == y && a.variant > b.variant)
        }?.variant
    }
}
