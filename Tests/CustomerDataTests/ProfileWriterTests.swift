import BSON
import CustomerData
import Foundation
import HeraldTesting
import Mongo
import Testing

/// Against the real customer-data store.
@Suite struct ProfileWriterTests {
    static func withStore(_ body: (ProfileWriter, ProfileDatabase) async throws -> Void) async throws {
        let client = try MongoClient(uri: TestEnvironment.customersMongoURI, applicationName: "herald-tests", logger: TestEnvironment.logger("mongo"))
        let store = ProfileStore(database: client.database(TestEnvironment.uniqueName("profiles")))
        try await store.prepare()
        var fields = ProfileDatabase.defaultFields
        fields.append(FieldDefinition(key: "city", title: "City", type: .string))
        fields.append(FieldDefinition(key: "orders", title: "Orders", type: .integer))
        let database = ProfileDatabase(accountId: "acc1", name: "Main", fields: fields)
        try await store.prepare(database)
        try await body(ProfileWriter(store: store), database)
    }

    static func row(_ line: Int, _ values: [(String, BSONValue)]) -> ProfileWriter.Row { .init(line: line, values: values) }

    @Test func theSameCustomerFromTwoSourcesBecomesOneProfile() async throws {
        try await Self.withStore { writer, database in
            let first = try await writer.write([Self.row(1, [("email", "anna@example.com"), ("city", "Oslo")])], to: database, mode: .upsert, source: "csv")
            let id = try #require(first.first?.profileId)
            #expect(first == [.created(id)])
            // A second source knows her by e-mail and adds her phone; a third only by phone.
            let second = try await writer.write([Self.row(1, [("email", "anna@example.com"), ("phone", "+4790000001"), ("orders", .int64(3))])],
                                                to: database, mode: .upsert, source: "sql")
            #expect(second == [.updated(id)])
            let third = try await writer.write([Self.row(7, [("phone", "+4790000001"), ("city", "Bergen")])], to: database, mode: .upsert, source: "api")
            #expect(third == [.updated(id)])
            let profile = try #require(try await writer.store.profile(id, in: database))
            #expect(profile.fields.isEquivalent(to: ["email": "anna@example.com", "phone": "+4790000001", "orders": .int64(3), "city": "Bergen"]))
            #expect(profile.version == 3)
            #expect(try await writer.store.count(database) == 1)
            let timeline = try await writer.store.timeline(of: profile)
            #expect(timeline.map(\.kind) == ["profile.updated", "profile.updated", "profile.created"])
            #expect(timeline.first?.source == "api" && timeline.first?.properties["line"]?.intValue == 7)
            // Sending the same again changes nothing and writes nothing.
            #expect(try await writer.write([Self.row(1, [("phone", "+4790000001"), ("city", "Bergen")])], to: database, mode: .upsert, source: "api") == [.unchanged(id)])
        }
    }

    @Test func withinOneBatchRepeatedCustomersMergeAndConflictsAreRejected() async throws {
        try await Self.withStore { writer, database in
            _ = try await writer.write([Self.row(1, [("email", "a@x.io")]), Self.row(2, [("email", "b@x.io"), ("phone", "+4790000002")])],
                                       to: database, mode: .upsert, source: "csv")
            let outcomes = try await writer.write([
                Self.row(1, [("email", "c@x.io"), ("city", "Rome")]),
                Self.row(2, [("email", "c@x.io"), ("external_id", "C-1")]),          // the same new customer again
                Self.row(3, [("email", "a@x.io"), ("phone", "+4790000002")]),         // e-mail of one, phone of another
                Self.row(4, [("city", "Nowhere")]),                                   // no identifier
                Self.row(5, [("email", "a@x.io"), ("external_id", "C-1")]),           // takes C-1 from c@x.io
            ], to: database, mode: .upsert, source: "csv")
            let c = try #require(outcomes[0].profileId)
            #expect(outcomes[1] == .created(c))
            #expect(outcomes[2] == .rejected("email 'a@x.io' and phone '+4790000002' belong to different profiles; fix the row or merge those profiles first"))
            #expect(outcomes[3] == .rejected("no identifier: give at least one of email, phone, external_id"))
            #expect(outcomes[4] == .rejected("email 'a@x.io' and external_id 'C-1' belong to different profiles; fix the row or merge those profiles first"))
            #expect(try await writer.store.count(database) == 3)
            let merged = try #require(try await writer.store.profile(c, in: database))
            #expect(merged.fields.isEquivalent(to: ["email": "c@x.io", "city": "Rome", "external_id": "C-1"]))
        }
    }

    @Test func modesDecideWhatHappensToNewAndExistingCustomers() async throws {
        try await Self.withStore { writer, database in
            let id = try #require(try await writer.write([Self.row(1, [("email", "a@x.io")])], to: database, mode: .add, source: "t").first?.profileId)
            #expect(try await writer.write([Self.row(1, [("email", "a@x.io"), ("city", "Oslo")])], to: database, mode: .add, source: "t") ==
                [.skipped("a profile with these identifiers exists (add-only import)")])
            #expect(try await writer.write([Self.row(1, [("email", "new@x.io")])], to: database, mode: .update, source: "t") ==
                [.skipped("no profile has these identifiers (update-only import)")])
            #expect(try await writer.write([Self.row(1, [("email", "a@x.io"), ("city", "Oslo")])], to: database, mode: .update, source: "t") == [.updated(id)])
            // A null clears a field.
            #expect(try await writer.write([Self.row(1, [("email", "a@x.io"), ("city", .null)])], to: database, mode: .update, source: "t") == [.updated(id)])
            let cleared = try #require(try await writer.store.profile(id, in: database))
            #expect(cleared.fields.isEquivalent(to: ["email": "a@x.io"]))
        }
    }

    @Test func aProfileChangedInBetweenIsReadAgainNotOverwritten() async throws {
        try await Self.withStore { writer, database in
            let id = try #require(try await writer.write([Self.row(1, [("email", "a@x.io"), ("city", "Oslo")])], to: database, mode: .upsert, source: "t").first?.profileId)
            var stale = try #require(try await writer.store.profile(id, in: database))
            // Another writer changes the profile after `stale` was read.
            #expect(try await writer.write([Self.row(1, [("email", "a@x.io"), ("orders", .int64(5))])], to: database, mode: .upsert, source: "t") == [.updated(id)])
            stale.merge([("city", "Paris")])
            #expect(try await !writer.store.replace(stale, expecting: stale.version))
            // The writer merges on top of the latest version instead.
            #expect(try await writer.write([Self.row(1, [("email", "a@x.io"), ("city", "Paris")])], to: database, mode: .upsert, source: "t") == [.updated(id)])
            let latest = try #require(try await writer.store.profile(id, in: database))
            #expect(latest.fields.isEquivalent(to: ["email": "a@x.io", "city": "Paris", "orders": .int64(5)]))
        }
    }

    @Test func requiredFieldsAreEnforcedOnCreation() async throws {
        try await Self.withStore { writer, database in
            var strict = database
            strict.fields[3].required = true  // first_name
            let required = strict
            let refused = try await writer.write([Self.row(9, [("email", "a@x.io")])], to: required, mode: .upsert, source: "t")
            #expect(refused == [.rejected("first_name: a value is required")])
            let accepted = try await writer.write([Self.row(9, [("email", "a@x.io"), ("first_name", "Ann")])], to: required, mode: .upsert, source: "t")
            #expect(accepted.first?.profileId != nil)
        }
    }
}
