import Foundation
import SwiftProtobuf

extension Herald_Common_V1_EventMeta {
    /// A new event's metadata: a fresh id, when it happened (now unless given), the account it
    /// belongs to, and the service that produced it.
    public static func new(account: String, producer: String, at date: Date = Date()) -> Self {
        var meta = Self()
        meta.eventID = UUID().uuidString
        meta.occurredAt = Google_Protobuf_Timestamp(date: date)
        meta.accountID = account
        meta.producer = producer
        return meta
    }
}
