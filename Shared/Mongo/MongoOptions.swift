import BSON

/// How ``MongoCollection/find(_:options:)`` reads.
public struct FindOptions: Sendable {
    /// Sort order, e.g. `["createdAt": -1]`.
    public var sort: BSONDocument?
    /// Fields to include or exclude, e.g. `["email": 1, "_id": 0]`.
    public var projection: BSONDocument?
    public var skip: Int?
    public var limit: Int?
    /// Documents the server returns per round trip.
    public var batchSize: Int?

    public init(sort: BSONDocument? = nil, projection: BSONDocument? = nil, skip: Int? = nil, limit: Int? = nil, batchSize: Int? = nil) {
        self.sort = sort
        self.projection = projection
        self.skip = skip
        self.limit = limit
        self.batchSize = batchSize
    }

    var document: BSONDocument {
        var d = BSONDocument()
        if let sort { d.append("sort", .document(sort)) }
        if let projection { d.append("projection", .document(projection)) }
        if let skip { d.append("skip", .int64(Int64(skip))) }
        if let limit { d.append("limit", .int64(Int64(limit))) }
        if let batchSize { d.append("batchSize", .int32(Int32(clamping: batchSize))) }
        return d
    }
}

/// What an update did.
public struct UpdateResult: Sendable, Equatable {
    public let matchedCount: Int
    public let modifiedCount: Int
    /// The `_id` of the document an upsert inserted.
    public let upsertedId: BSONValue?
}

/// What a bulk write did.
public struct BulkWriteResult: Sendable, Equatable {
    public let insertedCount: Int
    public let matchedCount: Int
    public let modifiedCount: Int
    public let deletedCount: Int
    public let upsertedCount: Int
}

/// One operation of ``MongoCollection/bulkWrite(_:ordered:)``.
public enum BulkWriteOperation<Document: Codable & Sendable>: Sendable {
    case insertOne(Document)
    case updateOne(filter: BSONDocument, update: BSONDocument, upsert: Bool = false)
    case updateMany(filter: BSONDocument, update: BSONDocument, upsert: Bool = false)
    case replaceOne(filter: BSONDocument, replacement: Document, upsert: Bool = false)
    case deleteOne(filter: BSONDocument)
    case deleteMany(filter: BSONDocument)
}

/// Which version of the document ``MongoCollection/findOneAndUpdate(filter:update:sort:upsert:returning:)`` returns.
public enum ReturnDocument: Sendable {
    case before, after
}

/// An index to create with ``MongoCollection/createIndexes(_:)``.
public struct IndexModel: Sendable {
    /// The indexed fields in order, e.g. `["accountId": 1, "email": 1]`.
    public var keys: BSONDocument
    public var name: String
    public var unique: Bool
    /// Documents expire this long after the date in the (single) indexed field.
    public var expireAfterSeconds: Int?
    /// Only documents matching this filter are indexed.
    public var partialFilterExpression: BSONDocument?
    public var sparse: Bool

    /// - Parameter name: Defaults to the server's convention, `field_1_other_-1`.
    public init(keys: BSONDocument, name: String? = nil, unique: Bool = false, expireAfterSeconds: Int? = nil,
                partialFilterExpression: BSONDocument? = nil, sparse: Bool = false)
    {
        self.keys = keys
        self.name = name ?? keys.map { "\($0.key)_\($0.value.intValue.map(String.init) ?? $0.value.stringValue ?? "1")" }.joined(separator: "_")
        self.unique = unique
        self.expireAfterSeconds = expireAfterSeconds
        self.partialFilterExpression = partialFilterExpression
        self.sparse = sparse
    }

    var document: BSONDocument {
        var d: BSONDocument = ["key": .document(keys), "name": .string(name)]
        if unique { d.append("unique", true) }
        if sparse { d.append("sparse", true) }
        if let expireAfterSeconds { d.append("expireAfterSeconds", .int32(Int32(clamping: expireAfterSeconds))) }
        if let partialFilterExpression { d.append("partialFilterExpression", .document(partialFilterExpression)) }
        return d
    }
}
