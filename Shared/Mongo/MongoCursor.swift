import BSON
import CMongoC
import Synchronization

/// Results of a query, streamed: documents arrive in batches as they are iterated, so memory stays
/// flat however many the query matches. Iterate it once.
public struct MongoCursor<Element: Decodable & Sendable>: AsyncSequence, Sendable {
    let handle: CursorHandle<Element>

    public struct AsyncIterator: AsyncIteratorProtocol {
        let handle: CursorHandle<Element>
        var buffer: [Element] = []
        var index = 0

        public mutating func next() async throws -> Element? {
            if index < buffer.count {
                defer { index += 1 }
                return buffer[index]
            }
            try Task.checkCancellation()
            buffer = try await handle.nextBatch()
            index = 0
            guard !buffer.isEmpty else { return nil }
            index = 1
            return buffer[0]
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(handle: handle) }

    /// Reads every remaining document into an array (for results known to be small).
    public func collect() async throws -> [Element] {
        var all: [Element] = []
        for try await e in self { all.append(e) }
        return all
    }
}

/// Owns a `mongoc_cursor_t` and the `mongoc_client_t` it came from.
final class CursorHandle<Element: Decodable & Sendable>: @unchecked Sendable {
    // @unchecked Sendable: libmongoc's cursor and client are not thread-safe, but they are used by
    // one thread at a time: an async iterator asks for its next batch only after the last one
    // arrived, and every batch is read inside `client.onThread`.
    private let client: MongoClient
    private let open: @Sendable (OpaquePointer) throws -> (collection: OpaquePointer, cursor: OpaquePointer)
    private let batchSize: Int
    private var driverClient: OpaquePointer?
    private var collection: OpaquePointer?
    private var cursor: OpaquePointer?
    private var finished = false

    init(client: MongoClient, batchSize: Int, open: @escaping @Sendable (OpaquePointer) throws -> (collection: OpaquePointer, cursor: OpaquePointer)) {
        self.client = client
        self.batchSize = max(1, batchSize)
        self.open = open
    }

    /// The next documents, decoded; empty when the cursor is exhausted.
    func nextBatch() async throws -> [Element] {
        try await client.onThread { try self.readBatch() }
    }

    private func readBatch() throws -> [Element] {
        if finished { return [] }
        do {
            if cursor == nil {
                let c = try client.popClient()
                driverClient = c
                (collection, cursor) = try open(c)
            }
            let decoder = BSONDecoder()
            var batch: [Element] = []
            batch.reserveCapacity(batchSize)
            var document: OpaquePointer?
            while batch.count < batchSize {
                guard mongoc_cursor_next(cursor, &document), let document else {
                    var error = bson_error_t()
                    if mongoc_cursor_error(cursor, &error) { throw MongoError(error) }
                    // Exhausted: a completed cursor must not be advanced again.
                    release()
                    break
                }
                batch.append(try decodeDocument(Element.self, at: document, decoder: decoder))
            }
            return batch
        } catch {
            release()
            throw error
        }
    }

    private func release() {
        finished = true
        if let cursor { mongoc_cursor_destroy(cursor) }
        if let collection { mongoc_collection_destroy(collection) }
        if let driverClient { client.push(driverClient) }
        cursor = nil
        collection = nil
        driverClient = nil
    }

    deinit { release() }
}
