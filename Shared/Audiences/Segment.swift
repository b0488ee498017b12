import BSON
import CustomerData
import Foundation

/// A segment of one profile database: dynamic (its rule decides membership whenever it is used)
/// or fixed (a frozen list: a dynamic segment's snapshot, or profiles added one by one).
public struct Segment: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case dynamic, fixed }

    /// The settings-store collection of segments.
    public static let collectionName = "segments"

    public var _id: String
    public var accountId: String
    public var databaseId: String
    public var name: String
    public var description: String
    public var kind: Kind
    /// The rule's format version (docs/audiences.md).
    public var ruleVersion: Int
    /// The rule of a dynamic segment.
    public var rule: SegmentRule?
    /// For a frozen copy: the segment it was frozen from, and when its member list was complete.
    public var frozenFrom: String?
    public var frozenAt: Date?
    /// For a copy frozen for a sending: the sending (a campaign run), which sends to exactly
    /// these members however the profiles change meanwhile.
    public var sendingId: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(accountId: String, databaseId: String, name: String, kind: Kind, rule: SegmentRule?) {
        _id = ObjectId().hex
        self.accountId = accountId
        self.databaseId = databaseId
        self.name = name
        description = ""
        self.kind = kind
        ruleVersion = 1
        self.rule = rule
        createdAt = Date()
        updatedAt = createdAt
    }
}

/// One profile in a fixed segment (customer-data store, `segment_members`).
public struct SegmentMember: Codable, Sendable, Equatable {
    /// `<segment id>:<profile id>`.
    public var _id: String
    public var accountId: String
    public var segmentId: String
    public var profileId: String
    public var addedAt: Date

    public init(segment: Segment, profileId: String) {
        _id = segment._id + ":" + profileId
        accountId = segment.accountId
        segmentId = segment._id
        self.profileId = profileId
        addedAt = Date()
    }
}
