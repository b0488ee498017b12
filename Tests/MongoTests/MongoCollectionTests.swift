import BSON
import Foundation
import HeraldTesting
import Mongo
import Testing

struct Person: Codable, Sendable, Equatable {
    var _id: ObjectId = ObjectId()
    var accountId: Int
    var email: String
    var name: String
    var age: Int
    var tags: [String] = []
    var createdAt = Date(timeIntervalSince1970: 1_700_000_000)
}

/// A client and a fresh database per test (the document store is real: nx-27017 here, MongoDB in production).
func withDatabase(_ body: (MongoDatabase) async throws -> Void) async throws {
    let client = try MongoClient(uri: TestEnvironment.customersMongoURI, applicationName: "herald-tests", logger: TestEnvironment.logger("mongo"))
    let db = client.database(TestEnvironment.uniqueName("mongo"))
    do {
        try await body(db)
    } catch {
        try? await client.shutdown()
        throw error
    }
    try await client.shutdown()
}

@Suite("MongoDB collections")
struct MongoCollectionTests {
    @Test func insertFindUpdateDelete() async throws {
        try await withDatabase { db in
            let people = db.collection("people", of: Person.self)
            let ann = Person(accountId: 1, email: "ann@example.com", name: "Ann", age: 31)
            try await people.insertOne(ann)
            #expect(try await people.insertMany([
                Person(accountId: 1, email: "bob@example.com", name: "Bob", age: 25),
                Person(accountId: 2, email: "cid@example.com", name: "Cid", age: 44),
            ]) == 2)

            #expect(try await people.findOne(["email": "ann@example.com"]) == ann)
            #expect(try await people.countDocuments(["accountId": 1]) == 2)

            let older = try await people.find(["age": ["$gt": 30]], options: FindOptions(sort: ["age": -1])).collect()
            #expect(older.map(\.name) == ["Cid", "Ann"])

            let page = try await people.find([:], options: FindOptions(sort: ["name": 1], skip: 1, limit: 1)).collect()
            #expect(page.map(\.name) == ["Bob"])

            struct EmailOnly: Codable, Sendable { var email: String }
            let emails = try await people.find(["accountId": 1], options: FindOptions(sort: ["email": 1], projection: ["email": 1, "_id": 0]), as: EmailOnly.self).collect()
            #expect(emails.map(\.email) == ["ann@example.com", "bob@example.com"])

            let updated = try await people.updateOne(filter: ["email": "bob@example.com"], update: ["$inc": ["age": 1], "$push": ["tags": "vip"]])
            #expect(updated.matchedCount == 1 && updated.modifiedCount == 1)
            let bob = try #require(try await people.findOne(["email": "bob@example.com"]))
            #expect(bob.age == 26 && bob.tags == ["vip"])

            let many = try await people.updateMany(filter: ["accountId": 1], update: ["$set": ["name": "X"]])
            #expect(many.matchedCount == 2)

            let upserted = try await db.collection("counters").updateOne(filter: ["_id": "sends"], update: ["$inc": ["n": 5]], upsert: true)
            #expect(upserted.upsertedId == "sends")

            #expect(try await people.deleteOne(["email": "ann@example.com"]) == 1)
            #expect(try await people.deleteMany(["accountId": ["$in": [1, 2]]]) == 2)
            #expect(try await people.countDocuments() == 0)
        }
    }

    @Test func findOneAndUpdateReturnsTheChosenVersion() async throws {
        try await withDatabase { db in
            let counters = db.collection("counters")
            let first = try await counters.findOneAndUpdate(filter: ["_id": "campaign"], update: ["$inc": ["seq": 1]], upsert: true)
            #expect(first?["seq"]?.intValue == 1)
            let before = try await counters.findOneAndUpdate(filter: ["_id": "campaign"], update: ["$inc": ["seq": 1]], returning: .before)
            #expect(before?["seq"]?.intValue == 1)
            #expect(try await counters.findOneAndUpdate(filter: ["_id": "missing"], update: ["$set": ["x": 1]]) == nil)
        }
    }

    @Test func duplicateKeyIsItsOwnError() async throws {
        try await withDatabase { db in
            let people = db.collection("people", of: Person.self)
            try await people.createIndexes([IndexModel(keys: ["accountId": 1, "email": 1], unique: true)])
            try await people.insertOne(Person(accountId: 1, email: "a@example.com", name: "A", age: 1))
            await #expect {
                try await people.insertOne(Person(accountId: 1, email: "a@example.com", name: "B", age: 2))
            } throws: { error in
                guard let e = error as? MongoError else { return false }
                return e.code == .duplicateKey && e.serverCode == 11000
            }
            // Another account may use the same address: the index is compound.
            try await people.insertOne(Person(accountId: 2, email: "a@example.com", name: "C", age: 3))

            let id = ObjectId()
            await #expect {
                try await db.collection("plain").insertMany([["_id": .objectId(id)], ["_id": .objectId(id)]])
            } throws: { ($0 as? MongoError)?.code == .duplicateKey }
        }
    }

    @Test func createIndexesOfEveryKind() async throws {
        try await withDatabase { db in
            let events = db.collection("events")
            try await events.createIndexes([
                IndexModel(keys: ["accountId": 1, "profileId": 1, "at": -1]),
                IndexModel(keys: ["at": 1], name: "expire", expireAfterSeconds: 3600),
                IndexModel(keys: ["externalId": 1], name: "external", unique: true, partialFilterExpression: ["externalId": ["$exists": true]]),
            ])
            // Idempotent: creating the same indexes again is not an error.
            try await events.createIndexes([IndexModel(keys: ["at": 1], name: "expire", expireAfterSeconds: 3600)])
            // Index names are the server's business (nx-27017 chooses its own); the keys are ours.
            let keys = try await events.listIndexes().compactMap { $0["key"]?.documentValue?.keys }
            #expect(keys.contains(["accountId", "profileId", "at"]))
            #expect(keys.contains(["at"]))
            #expect(keys.contains(["externalId"]))
            try await events.insertOne(["kind": "no external id"])
            try await events.insertOne(["kind": "no external id either"])
        }
    }

    @Test func bulkWriteMixesOperations() async throws {
        try await withDatabase { db in
            let c = db.collection("bulk")
            let result = try await c.bulkWrite([
                .insertOne(["_id": 1, "n": 1]),
                .insertOne(["_id": 2, "n": 2]),
                .insertOne(["_id": 3, "n": 3]),
                .updateOne(filter: ["_id": 1], update: ["$set": ["n": 10]]),
                .updateMany(filter: ["n": ["$gte": 2]], update: ["$inc": ["n": 1]]),
                .replaceOne(filter: ["_id": 2], replacement: ["n": 20]),
                .updateOne(filter: ["_id": 4], update: ["$set": ["n": 4]], upsert: true),
                .deleteOne(filter: ["_id": 3]),
            ])
            #expect(result.insertedCount == 3)
            #expect(result.upsertedCount == 1)
            #expect(result.deletedCount == 1)
            let all = try await c.find([:], options: FindOptions(sort: ["_id": 1])).collect()
            #expect(all.map { $0["n"]?.intValue } == [11, 20, 4])
        }
    }

    @Test func aggregatePipelines() async throws {
        try await withDatabase { db in
            let orders = db.collection("orders")
            try await orders.insertMany([
                ["customer": "a", "total": 10], ["customer": "a", "total": 5], ["customer": "b", "total": 7],
            ])
            struct Total: Codable, Sendable { var _id: String; var sum: Int }
            let totals = try await orders.aggregate([
                ["$match": ["total": ["$gt": 1]]],
                ["$group": ["_id": "$customer", "sum": ["$sum": "$total"]]],
                ["$sort": ["_id": 1]],
            ], as: Total.self).collect()
            #expect(totals.map(\._id) == ["a", "b"])
            #expect(totals.map(\.sum) == [15, 7])
        }
    }

    @Test func decodingErrorsNameTheField() async throws {
        try await withDatabase { db in
            try await db.collection("people").insertOne(["accountId": 1, "email": 5, "name": "n", "age": 1, "tags": [], "createdAt": .datetime(0)])
            await #expect {
                _ = try await db.collection("people", of: Person.self).find().collect()
            } throws: { error in
                guard let e = error as? MongoError, e.code == .decoding else { return false }
                return e.message.contains("email") && e.message.contains("expected a string but found int32")
            }
        }
    }

    @Test func serverErrorsCarryTheServerCode() async throws {
        try await withDatabase { db in
            let c = db.collection("x")
            try await c.insertOne(["_id": 1, "s": "text"])
            // MongoDB answers 14 (TypeMismatch), nx-27017 8: either way the server's own code.
            await #expect {
                try await c.updateOne(filter: ["_id": 1], update: ["$inc": ["s": 1]])
            } throws: { error in
                guard let e = error as? MongoError else { return false }
                return e.code == .server && e.serverCode != nil && !e.message.isEmpty
            }
        }
    }

    @Test func unreachableServerIsAConnectionError() async throws {
        let client = try MongoClient(uri: "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300", logger: TestEnvironment.logger("mongo"))
        await #expect {
            try await client.ping()
        } throws: { ($0 as? MongoError)?.code == .connection }
        try await client.shutdown()
        await #expect {
            try await client.ping()
        } throws: { ($0 as? MongoError)?.code == .shutdown }
    }

    @Test func badURIIsRejected() {
        #expect {
            _ = try MongoClient(uri: "http://nope", logger: TestEnvironment.logger("mongo"))
        } throws: { ($0 as? MongoError)?.code == .invalidArgument }
    }
}
