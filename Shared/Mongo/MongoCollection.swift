import BSON
import CMongoC

/// A collection whose documents are read and written as `Document` (use `BSONDocument` for
/// schemaless access). Filters, updates and pipelines are ``BSONDocument``s.
public struct MongoCollection<Document: Codable & Sendable>: Sendable {
    public let database: MongoDatabase
    public let name: String

    var client: MongoClient { database.client }

    /// Runs `body` with this collection's `mongoc_collection_t`.
    private func withCollection<R: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws -> R) async throws -> R {
        let db = database.name, name = self.name
        return try await client.withClient { client in
            let collection = mongoc_client_get_collection(client, db, name)!
            defer { mongoc_collection_destroy(collection) }
            return try body(collection)
        }
    }

    private func encode(_ value: Document) throws -> BSONDocument {
        do {
            return try BSONEncoder().encode(value)
        } catch {
            throw MongoError(.encoding, message: "cannot store \(Document.self) in \(database.name).\(name): \(error)")
        }
    }

    // MARK: Inserting

    /// Inserts one document (the server adds an ObjectId `_id` when it has none).
    ///
    /// - Throws: ``MongoError`` with code `.duplicateKey` when a unique index already holds its key.
    public func insertOne(_ document: Document) async throws {
        let bson = try encode(document)
        try await withCollection { collection in
            var error = bson_error_t()
            let ok = bson.withBSONPointer { mongoc_collection_insert_one(collection, $0, nil, nil, &error) }
            guard ok else { throw MongoError(error) }
        }
    }

    /// Inserts documents in one round trip per server batch.
    ///
    /// - Parameter ordered: Stop at the first failure (`true`), or insert every document that can be (`false`).
    /// - Returns: The number of documents inserted.
    /// - Throws: ``MongoError`` describing the first failure; with `ordered: false` the others were still inserted.
    @discardableResult
    public func insertMany(_ documents: [Document], ordered: Bool = true) async throws -> Int {
        guard !documents.isEmpty else { return 0 }
        let encoded = try documents.map(encode)
        let opts: BSONDocument = ["ordered": .bool(ordered)]
        return try await withCollection { collection in
            // All documents in one buffer, alive while libmongoc reads them.
            var storage: [UInt8] = []
            storage.reserveCapacity(encoded.reduce(0) { $0 + $1.byteCount })
            for d in encoded { storage.append(contentsOf: d.bytes) }
            return try storage.withUnsafeBufferPointer { buffer in
                var views: [OpaquePointer?] = []
                views.reserveCapacity(encoded.count)
                var offset = 0
                for d in encoded {
                    views.append(herald_mongoc_view(buffer.baseAddress! + offset, d.byteCount))
                    offset += d.byteCount
                }
                defer { views.forEach { herald_mongoc_view_free($0) } }
                let reply = Reply()
                var error = bson_error_t()
                let ok = opts.withBSONPointer { o in
                    views.withUnsafeMutableBufferPointer { v in
                        mongoc_collection_insert_many(collection, v.baseAddress, v.count, o, reply.pointer, &error)
                    }
                }
                guard ok else { throw MongoError(error) }
                return reply.document["insertedCount"]?.intValue ?? encoded.count
            }
        }
    }

    // MARK: Reading

    /// Streams the documents matching `filter`.
    ///
    /// The query is sent when iteration starts; its errors are thrown by the iterator.
    public func find(_ filter: BSONDocument = [:], options: FindOptions = FindOptions()) -> MongoCursor<Document> {
        find(filter, options: options, as: Document.self)
    }

    /// Streams the documents matching `filter`, decoded as `T` (for projections).
    public func find<T: Decodable & Sendable>(_ filter: BSONDocument = [:], options: FindOptions = FindOptions(), as type: T.Type) -> MongoCursor<T> {
        let db = database.name, name = self.name, opts = options.document
        return MongoCursor(handle: CursorHandle(client: client, batchSize: options.batchSize ?? 256) { client in
            let collection = mongoc_client_get_collection(client, db, name)!
            let cursor = filter.withBSONPointer { f in
                opts.withBSONPointer { o in mongoc_collection_find_with_opts(collection, f, o, nil)! }
            }
            return (collection, cursor)
        })
    }

    /// The first document matching `filter` (in `sort` order, if given).
    public func findOne(_ filter: BSONDocument = [:], sort: BSONDocument? = nil) async throws -> Document? {
        for try await document in find(filter, options: FindOptions(sort: sort, limit: 1, batchSize: 1)) {
            return document
        }
        return nil
    }

    /// The number of documents matching `filter`.
    public func countDocuments(_ filter: BSONDocument = [:]) async throws -> Int {
        try await withCollection { collection in
            var error = bson_error_t()
            let n = filter.withBSONPointer { mongoc_collection_count_documents(collection, $0, nil, nil, nil, &error) }
            guard n >= 0 else { throw MongoError(error) }
            return Int(n)
        }
    }

    /// Runs an aggregation pipeline and streams its output as `T`.
    public func aggregate<T: Decodable & Sendable>(_ pipeline: [BSONDocument], as type: T.Type = BSONDocument.self, batchSize: Int = 256) -> MongoCursor<T> {
        let db = database.name, name = self.name
        let stages: BSONDocument = ["pipeline": .array(pipeline.map { .document($0) })]
        return MongoCursor(handle: CursorHandle(client: client, batchSize: batchSize) { client in
            let collection = mongoc_client_get_collection(client, db, name)!
            let cursor = stages.withBSONPointer { p in
                mongoc_collection_aggregate(collection, MONGOC_QUERY_NONE, p, nil, nil)!
            }
            return (collection, cursor)
        })
    }

    // MARK: Updating

    /// Applies `update` (operators such as `$set`, `$inc`, `$push`) to the first document matching `filter`.
    @discardableResult
    public func updateOne(filter: BSONDocument, update: BSONDocument, upsert: Bool = false) async throws -> UpdateResult {
        try await runUpdate(filter: filter, update: update, upsert: upsert, call: mongoc_collection_update_one)
    }

    /// Applies `update` to every document matching `filter`.
    @discardableResult
    public func updateMany(filter: BSONDocument, update: BSONDocument, upsert: Bool = false) async throws -> UpdateResult {
        try await runUpdate(filter: filter, update: update, upsert: upsert, call: mongoc_collection_update_many)
    }

    /// Replaces the first document matching `filter` with `replacement`.
    @discardableResult
    public func replaceOne(filter: BSONDocument, replacement: Document, upsert: Bool = false) async throws -> UpdateResult {
        try await runUpdate(filter: filter, update: try encode(replacement), upsert: upsert, call: mongoc_collection_replace_one)
    }

    private typealias UpdateCall = @convention(c) (
        OpaquePointer?, OpaquePointer?, OpaquePointer?, OpaquePointer?, OpaquePointer?, UnsafeMutablePointer<bson_error_t>?
    ) -> Bool

    private func runUpdate(filter: BSONDocument, update: BSONDocument, upsert: Bool, call: UpdateCall) async throws -> UpdateResult {
        let opts: BSONDocument = upsert ? ["upsert": true] : [:]
        return try await withCollection { collection in
            let reply = Reply()
            var error = bson_error_t()
            let ok = filter.withBSONPointer { f in
                update.withBSONPointer { u in
                    opts.withBSONPointer { o in call(collection, f, u, o, reply.pointer, &error) }
                }
            }
            guard ok else { throw MongoError(error) }
            let r = reply.document
            return UpdateResult(
                matchedCount: r["matchedCount"]?.intValue ?? 0,
                modifiedCount: r["modifiedCount"]?.intValue ?? 0,
                upsertedId: r["upsertedId"]
            )
        }
    }

    /// Atomically updates the first document matching `filter` (in `sort` order) and returns it.
    ///
    /// - Returns: The document before or after the update, or `nil` when none matched (and none was upserted).
    public func findOneAndUpdate(
        filter: BSONDocument, update: BSONDocument, sort: BSONDocument? = nil, upsert: Bool = false, returning: ReturnDocument = .after
    ) async throws -> Document? {
        try await withCollection { collection in
            let opts = mongoc_find_and_modify_opts_new()!
            defer { mongoc_find_and_modify_opts_destroy(opts) }
            var flags = MONGOC_FIND_AND_MODIFY_NONE.rawValue
            if upsert { flags |= MONGOC_FIND_AND_MODIFY_UPSERT.rawValue }
            if returning == .after { flags |= MONGOC_FIND_AND_MODIFY_RETURN_NEW.rawValue }
            mongoc_find_and_modify_opts_set_flags(opts, mongoc_find_and_modify_flags_t(flags))
            update.withBSONPointer { _ = mongoc_find_and_modify_opts_set_update(opts, $0) }
            if let sort { sort.withBSONPointer { _ = mongoc_find_and_modify_opts_set_sort(opts, $0) } }
            let reply = Reply()
            var error = bson_error_t()
            let ok = filter.withBSONPointer { mongoc_collection_find_and_modify_with_opts(collection, $0, opts, reply.pointer, &error) }
            guard ok else { throw MongoError(error) }
            guard case .document(let value)? = reply.document["value"] else { return nil }
            do {
                return try BSONDecoder().decode(Document.self, from: value)
            } catch let e as DecodingError {
                throw MongoError(.decoding, message: "a stored document is not a valid \(Document.self): \(e.readableDescription)")
            }
        }
    }

    // MARK: Deleting

    /// Deletes the first document matching `filter`; returns how many were deleted (0 or 1).
    @discardableResult
    public func deleteOne(_ filter: BSONDocument) async throws -> Int {
        try await runDelete(filter, call: mongoc_collection_delete_one)
    }

    /// Deletes every document matching `filter`; returns how many were deleted.
    @discardableResult
    public func deleteMany(_ filter: BSONDocument) async throws -> Int {
        try await runDelete(filter, call: mongoc_collection_delete_many)
    }

    private typealias DeleteCall = @convention(c) (
        OpaquePointer?, OpaquePointer?, OpaquePointer?, OpaquePointer?, UnsafeMutablePointer<bson_error_t>?
    ) -> Bool

    private func runDelete(_ filter: BSONDocument, call: DeleteCall) async throws -> Int {
        try await withCollection { collection in
            let reply = Reply()
            var error = bson_error_t()
            let ok = filter.withBSONPointer { call(collection, $0, nil, reply.pointer, &error) }
            guard ok else { throw MongoError(error) }
            return reply.document["deletedCount"]?.intValue ?? 0
        }
    }

    // MARK: Bulk writes

    /// Sends many writes in as few round trips as the server allows.
    ///
    /// - Parameter ordered: Stop at the first failure (`true`), or attempt every operation (`false`).
    /// - Throws: ``MongoError`` for the first failure (code `.duplicateKey` for a unique-index clash).
    @discardableResult
    public func bulkWrite(_ operations: [BulkWriteOperation<Document>], ordered: Bool = true) async throws -> BulkWriteResult {
        guard !operations.isEmpty else { return BulkWriteResult(insertedCount: 0, matchedCount: 0, modifiedCount: 0, deletedCount: 0, upsertedCount: 0) }
        let steps: [BulkStep] = try operations.map {
            switch $0 {
            case .insertOne(let d): .insert(try encode(d))
            case .updateOne(let f, let u, let upsert): .update(f, u, upsert: upsert, many: false)
            case .updateMany(let f, let u, let upsert): .update(f, u, upsert: upsert, many: true)
            case .replaceOne(let f, let r, let upsert): .replace(f, try encode(r), upsert: upsert)
            case .deleteOne(let f): .delete(f, many: false)
            case .deleteMany(let f): .delete(f, many: true)
            }
        }
        let opts: BSONDocument = ["ordered": .bool(ordered)]
        return try await withCollection { collection in
            let bulk = opts.withBSONPointer { mongoc_collection_create_bulk_operation_with_opts(collection, $0)! }
            defer { mongoc_bulk_operation_destroy(bulk) }
            var error = bson_error_t()
            for (index, step) in steps.enumerated() {
                let ok: Bool
                switch step {
                case .insert(let d):
                    ok = d.withBSONPointer { mongoc_bulk_operation_insert_with_opts(bulk, $0, nil, &error) }
                case .update(let f, let u, let upsert, let many):
                    let o: BSONDocument = ["upsert": .bool(upsert)]
                    ok = f.withBSONPointer { fp in
                        u.withBSONPointer { up in
                            o.withBSONPointer { op in
                                many ? mongoc_bulk_operation_update_many_with_opts(bulk, fp, up, op, &error)
                                    : mongoc_bulk_operation_update_one_with_opts(bulk, fp, up, op, &error)
                            }
                        }
                    }
                case .replace(let f, let r, let upsert):
                    let o: BSONDocument = ["upsert": .bool(upsert)]
                    ok = f.withBSONPointer { fp in
                        r.withBSONPointer { rp in o.withBSONPointer { op in mongoc_bulk_operation_replace_one_with_opts(bulk, fp, rp, op, &error) } }
                    }
                case .delete(let f, let many):
                    ok = f.withBSONPointer {
                        many ? mongoc_bulk_operation_remove_many_with_opts(bulk, $0, nil, &error)
                            : mongoc_bulk_operation_remove_one_with_opts(bulk, $0, nil, &error)
                    }
                }
                guard ok else {
                    let e = MongoError(error)
                    throw MongoError(e.code, serverCode: e.serverCode, message: "bulk operation \(index): \(e.message)")
                }
            }
            let reply = Reply()
            let ok = mongoc_bulk_operation_execute(bulk, reply.pointer, &error) != 0
            guard ok else { throw MongoError(error) }
            let r = reply.document
            return BulkWriteResult(
                insertedCount: r["nInserted"]?.intValue ?? 0,
                matchedCount: r["nMatched"]?.intValue ?? 0,
                modifiedCount: r["nModified"]?.intValue ?? 0,
                deletedCount: r["nRemoved"]?.intValue ?? 0,
                upsertedCount: r["nUpserted"]?.intValue ?? 0
            )
        }
    }

    // MARK: Indexes

    /// Creates indexes with the `createIndexes` command; an index that already exists with the same
    /// definition is left as it is.
    public func createIndexes(_ indexes: [IndexModel]) async throws {
        let command: BSONDocument = [
            "createIndexes": .string(name),
            "indexes": .array(indexes.map { .document($0.document) }),
        ]
        try await database.runCommand(command)
    }

    /// The indexes of the collection as the server describes them.
    public func listIndexes() async throws -> [BSONDocument] {
        try await withCollection { collection in
            let cursor = mongoc_collection_find_indexes_with_opts(collection, nil)!
            defer { mongoc_cursor_destroy(cursor) }
            var result: [BSONDocument] = []
            var doc: OpaquePointer?
            while mongoc_cursor_next(cursor, &doc), let doc { result.append(BSONDocument(copying: doc)) }
            var error = bson_error_t()
            if mongoc_cursor_error(cursor, &error) { throw MongoError(error) }
            return result
        }
    }
}

/// One encoded operation of a bulk write.
private enum BulkStep: Sendable {
    case insert(BSONDocument)
    case update(BSONDocument, BSONDocument, upsert: Bool, many: Bool)
    case replace(BSONDocument, BSONDocument, upsert: Bool)
    case delete(BSONDocument, many: Bool)
}
