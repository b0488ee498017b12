import BSON
import CustomerData
import Foundation
import Mongo

extension AudienceQuery {
    /// The copy of `source` frozen for one sending: made and filled on the first call; later
    /// calls return it, completing it first if an earlier call was interrupted (no member twice).
    /// - Returns: the frozen segment and its member count.
    public func frozenCopy(of source: Segment, in database: ProfileDatabase, segments collection: MongoCollection<Segment>, sendingId: String) async throws -> (Segment, Int) {
        var frozen: Segment
        if let existing = try await collection.findOne(["accountId": .string(source.accountId), "frozenFrom": .string(source._id), "sendingId": .string(sendingId)]) {
            if existing.frozenAt != nil {
                return (existing, try await members.countDocuments(["segmentId": .string(existing._id)]))
            }
            frozen = existing
        } else {
            frozen = Segment(accountId: source.accountId, databaseId: database._id, name: "\(source.name) · \(sendingId)", kind: .fixed, rule: nil)
            frozen.frozenFrom = source._id
            frozen.sendingId = sendingId
            try await collection.insertOne(frozen)
        }
        let all = try await collection.find(["accountId": .string(source.accountId), "databaseId": .string(database._id)]).collect()
        let count = try await freeze(source, in: database, segments: all, into: frozen)
        frozen.frozenAt = Date()
        _ = try await collection.replaceOne(filter: ["_id": .string(frozen._id)], replacement: frozen)
        return (frozen, count)
    }

    /// Members of a fixed segment after `profileId`, in profile id order (at most `limit`; all when
    /// 0): how a sending walks its frozen audience and resumes where it stopped.
    public func members(of segmentId: String, after profileId: String, limit: Int) async throws -> [String] {
        var filter: BSONDocument = ["segmentId": .string(segmentId)]
        if !profileId.isEmpty { filter = ["$and": .array([.document(filter), ["profileId": ["$gt": .string(profileId)]]])] }
        var ids: [String] = []
        for try await member in members.find(filter, options: FindOptions(sort: ["profileId": 1], projection: ["profileId": 1], limit: limit > 0 ? limit : nil, batchSize: 5000),
                                             as: MemberId.self) {
            ids.append(member.profileId)
        }
        return ids
    }

}
