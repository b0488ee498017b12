import AMQP
import BSON
import BounceParsing
import Contracts
import CustomerData
import Foundation
import Logging
import Mongo
import SwiftProtobuf
import Tracking

/// What one returned message means, acted on: each bounce or complaint is tied to the message,
/// recipient and profile through the VERP return path (`bounces+<token>@…`) or the
/// `X-Herald-Token` header of the returned original; tied ones go to the bus as activity
/// (job-server marks the subscription and stop-lists the address), untied hard bounces and
/// complaints go on the mailbox account's stop list at once. Soft bounces are counted per
/// address; the `softLimit`-th becomes hard. Auto-replies carry no bounce and change nothing.
public struct BounceProcessor: Sendable {
    let signer: TrackingSigner
    let amqp: AMQPConnection
    let stopList: StopList
    let counts: MongoCollection<SoftBounceCount>
    let softLimit: Int
    let logger: Logger

    public init(signer: TrackingSigner, amqp: AMQPConnection, settings: MongoDatabase, softLimit: Int = 3, logger: Logger) {
        self.signer = signer
        self.amqp = amqp
        stopList = StopList(settings: settings)
        counts = settings.collection("soft_bounce_counts", of: SoftBounceCount.self)
        self.softLimit = softLimit
        self.logger = logger
    }

    /// Soft bounces of an address so far.
    public struct SoftBounceCount: Codable, Sendable {
        public var _id: String
        public var count: Int
        public var lastAt: Date
    }

    /// What a message came to: per bounce, the kind acted on and whether it was tied to a recipient.
    public struct Outcome: Sendable, Equatable {
        public var recipient: String
        public var kind: Bounce.Kind
        public var tied: Bool
    }

    /// The token a returned message carries: in a VERP address (`…+<token>@`) or an `X-Herald-Token` header.
    /// Where a token stands: an `X-Herald-Token` header, or a VERP address (compiled once).
    nonisolated(unsafe) static let tokenPatterns: [NSRegularExpression] = [#"X-Herald-Token:\s*([A-Za-z0-9_-]{20,})"#, #"[A-Za-z0-9._-]+\+([A-Za-z0-9_-]{20,})@"#]
        .map { try! NSRegularExpression(pattern: $0, options: [.caseInsensitive]) }

    func token(in text: String) -> TrackingToken? {
        for regex in Self.tokenPatterns {
            for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                guard let range = Range(match.range(at: 1), in: text), let token = try? signer.decode(String(text[range])), token.kind == .bounce else { continue }
                return token
            }
        }
        return nil
    }

    /// Acts on one returned message of the mailbox's `account`; returns when everything it means
    /// is durable (published with confirms, stop list written), so it can be deleted.
    public func process(_ bytes: [UInt8], account: String, mailbox: String) async throws -> [Outcome] {
        let bounces = BounceAnalyzer.analyze(bytes)
        guard !bounces.isEmpty else { return [] }
        let text = String(decoding: bytes, as: UTF8.self)
        let token = token(in: text)
        var outcomes: [Outcome] = [], events: [Herald_Events_V1_ActivityEvent] = []
        for bounce in bounces {
            var kind = bounce.kind
            // The token names the subscription the message went to; the bounce's own address confirms it.
            let tied = token.map { $0.address.lowercased() == bounce.recipient.lowercased() || bounces.count == 1 } ?? false
            let owner = tied ? token!.accountId : account
            if kind == .soft {
                let id = "\(owner):\(bounce.recipient)"
                let updated = try await counts.findOneAndUpdate(filter: ["_id": .string(id)], update: ["$inc": ["count": 1], "$currentDate": ["lastAt": true]],
                                                               upsert: true, returning: .after)
                if (updated?.count ?? 1) >= softLimit {
                    kind = .hard
                    _ = try await counts.deleteOne(["_id": .string(id)])
                }
            }
            outcomes.append(Outcome(recipient: bounce.recipient, kind: kind, tied: tied))
            if tied, let token {
                var event = Herald_Events_V1_ActivityEvent()
                event.meta = .new(account: token.accountId, producer: "bounce-fbl-reader")
                event.databaseID = token.databaseId
                event.profileID = token.profileId
                event.kind = kind == .complaint ? "message.complained" : "message.bounced"
                event.source = "bounce-fbl-reader"
                event.properties = Google_Protobuf_Struct(fields: [
                    "message": .init(stringValue: token.messageId), "channel": .init(stringValue: token.channel.isEmpty ? "email" : token.channel),
                    "address": .init(stringValue: token.address.isEmpty ? bounce.recipient : token.address), "bounce": .init(stringValue: kind.rawValue),
                    "reason": .init(stringValue: bounce.reason), "status": .init(stringValue: bounce.status), "reply": .init(stringValue: bounce.replyCode),
                    "diagnostic": .init(stringValue: String(bounce.diagnostic.prefix(500))), "mailbox": .init(stringValue: mailbox),
                ])
                events.append(event)
            } else if kind != .soft {
                try await stopList.add(StopListEntry(accountId: account, kind: .address, value: bounce.recipient.lowercased(),
                                                     reason: kind == .complaint ? "complaint (\(bounce.feedbackType ?? "abuse"))" : "\(bounce.reason) \(bounce.status)".trimmingCharacters(in: .whitespaces),
                                                     source: kind == .complaint ? .complaint : .bounce, by: "bounce-fbl-reader"))
            }
        }
        if !events.isEmpty {
            var batch = Herald_Events_V1_ActivityBatch()
            batch.meta = .new(account: events[0].meta.accountID, producer: "bounce-fbl-reader")
            batch.events = events
            try await amqp.publish(AMQPMessage(exchange: BusExchange.events, routingKey: BusRoutingKey.activity("batch"), body: try batch.serializedBytes(),
                                               messageId: batch.meta.eventID, type: "herald.events.v1.ActivityBatch", contentType: "application/x-protobuf",
                                               appId: "bounce-fbl-reader", timestamp: Date()))
        }
        return outcomes
    }
}
