import BSON
import CMongoC

/// One database of a ``MongoClient``.
public struct MongoDatabase: Sendable {
    public let client: MongoClient
    public let name: String

    /// The collection `name`, read and written as `Document`.
    public func collection<Document: Codable & Sendable>(_ name: String, of type: Document.Type = BSONDocument.self) -> MongoCollection<Document> {
        MongoCollection(database: self, name: name)
    }

    /// Runs a database command (for example `["ping": 1]` or `["collStats": "profiles"]`) and returns the server's reply.
    ///
    /// - Throws: ``MongoError`` with the server's code when the command fails.
    @discardableResult
    public func runCommand(_ command: BSONDocument) async throws -> BSONDocument {
        let name = self.name
        return try await client.withClient { client in
            let reply = Reply()
            var error = bson_error_t()
            let ok = command.withBSONPointer { cmd in
                mongoc_client_command_simple(client, name, cmd, nil, reply.pointer, &error)
            }
            guard ok else { throw MongoError(error) }
            return reply.document
        }
    }

    /// The names of the collections in this database.
    public func collectionNames() async throws -> [String] {
        let name = self.name
        return try await client.withClient { client in
            let db = mongoc_client_get_database(client, name)!
            defer { mongoc_database_destroy(db) }
            var error = bson_error_t()
            guard let names = mongoc_database_get_collection_names_with_opts(db, nil, &error) else { throw MongoError(error) }
            defer { bson_strfreev(names) }
            var result: [String] = []
            var i = 0
            while let n = names[i] {
                result.append(String(cString: n))
                i += 1
            }
            return result
        }
    }
}
