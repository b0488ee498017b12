import BSON
import ControlPanel
import CustomerData
import DataJobs
import Foundation
import HeraldTesting
import Hummingbird
import HummingbirdTesting
import Testing

/// Every kind of audience condition against a seeded database with known answers, through the
/// builder's preview API; then a segment exported, copied and synced to PostgreSQL and MariaDB.
@Suite struct AudienceKindsTests {
    static let schema = #"""
        [{"key": "email", "type": "email", "unique": true}, {"key": "city", "type": "string", "indexed": true}, {"key": "vip", "type": "boolean"},
         {"key": "interests", "type": "string_list"},
         {"key": "orders", "type": "table", "columns": [{"key": "amount", "type": "decimal"}, {"key": "date", "type": "date"}]},
         {"key": "loyalty", "type": "table", "columns": [{"key": "program", "type": "string"}, {"key": "level", "type": "enum", "options": ["silver", "gold"]}]}]
        """#

    static func day(_ daysAgo: Int) -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd"
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date().addingTimeInterval(-Double(daysAgo) * 86400))
    }

    /// Five customers with orders, loyalty, subscriptions, events and referrers; returns the
    /// database id, the token headers and the profile ids by e-mail.
    static func seed(_ harness: PanelHarness, _ client: any TestClientProtocol) async throws -> (String, HTTPFields, [String: String]) {
        let admin = try await harness.identity("admin@alpha.test", PanelHarness.adminPassword)
        let (_, token) = try await harness.panel.administration.createToken(name: "aud", scopes: [
            "databases:view", "databases:create", "profiles:view", "profiles:create", "profiles:edit", "profiles:import", "profiles:export",
            "segments:view", "segments:create", "segments:edit", "segments:delete",
        ], expiresInDays: nil, by: admin)
        let auth: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
        let id = try await ImportTests.database(harness, client, auth: auth, fields: schema)
        let profiles = [
            #"{"fields": {"email": "ann@x.io", "city": "Oslo", "vip": true, "interests": ["ski", "books"], "orders": [{"amount": 3000, "date": "\#(day(10))"}, {"amount": 2500, "date": "\#(day(20))"}], "loyalty": [{"program": "club", "level": "gold"}]}, "subscriptions": [{"channel": "email", "address": "ann@x.io"}, {"channel": "web_push", "address": "https://push.example/ann"}]}"#,
            #"{"fields": {"email": "bob@x.io", "city": "Perm", "vip": false, "orders": [{"amount": 6000, "date": "\#(day(200))"}]}, "subscriptions": [{"channel": "email", "address": "bob@x.io", "status": "unsubscribed"}]}"#,
            #"{"fields": {"email": "cat@x.io", "city": "Oslo", "orders": [{"amount": 100, "date": "\#(day(5))"}], "loyalty": [{"program": "club", "level": "silver"}]}, "subscriptions": [{"channel": "mobile_push", "address": "fcm-token-cat"}]}"#,
            #"{"fields": {"email": "dan@x.io", "city": "Bergen"}}"#,
            #"{"fields": {"email": "eve@x.io", "city": "Molde"}}"#,
        ]
        let bulk = try await client.execute(uri: "/api/v1/databases/\(id)/profiles/bulk", method: .post, headers: auth,
                                            body: ByteBuffer(string: #"{"profiles": [\#(profiles.joined(separator: ","))]}"#))
        #expect(bulk.status == .ok, "\(String(buffer: bulk.body))")
        let database = try #require(try await harness.panel.customers.databases.findOne(["_id": .string(id)]))
        var ids: [String: String] = [:]
        for profile in try await harness.panel.customers.profiles.profiles.find(["databaseId": .string(id)]).collect() {
            ids[profile[field: "email"]?.stringValue ?? ""] = profile._id
        }
        #expect(ids.count == 5)
        func event(_ email: String, _ kind: String, _ daysAgo: Double, _ properties: BSONDocument) -> ActivityEvent {
            ActivityEvent(accountId: database.accountId, databaseId: id, profileId: ids[email]!, at: Date().addingTimeInterval(-daysAgo * 86400),
                          kind: kind, source: "test", properties: properties)
        }
        _ = try await harness.panel.customers.profiles.activity.insertMany([
            event("ann@x.io", "message.opened", 3, ["campaign": "c1", "channel": "email"]),
            event("ann@x.io", "site.visit", 1, ["url": "/catalog/1", "browser": "Chrome"]),
            event("ann@x.io", "site.visit", 2, ["url": "/catalog/2"]),
            event("ann@x.io", "site.visit", 3, ["url": "/catalog/3"]),
            event("ann@x.io", "goal.reached", 2, ["goal": "signup"]),
            event("bob@x.io", "message.opened", 3, ["campaign": "c2", "channel": "email"]),
            event("bob@x.io", "message.clicked", 100, ["campaign": "c2"]),
            event("cat@x.io", "site.visit", 1, ["url": "/catalog/9", "browser": "Firefox"]),
            event("cat@x.io", "message.clicked", 10, ["campaign": "c1"]),
            event("dan@x.io", "message.opened", 40, ["campaign": "c1", "channel": "email"]),
        ], ordered: true)
        // Dan's referrer is Ann (VIP), Eve's is Bob.
        _ = try await harness.panel.customers.profiles.relations.insertMany([
            ProfileRelation(accountId: database.accountId, databaseId: id, fromId: ids["dan@x.io"]!, toId: ids["ann@x.io"]!, kind: "referrer"),
            ProfileRelation(accountId: database.accountId, databaseId: id, fromId: ids["eve@x.io"]!, toId: ids["bob@x.io"]!, kind: "referrer"),
        ], ordered: true)
        return (id, auth, ids)
    }

    /// Who the preview API finds for a rule, by e-mail.
    static func members(_ client: any TestClientProtocol, _ db: String, _ auth: HTTPFields, _ rule: String) async throws -> Set<String> {
        let response = try await client.execute(uri: "/api/v1/databases/\(db)/segments/preview", method: .post, headers: auth, body: ByteBuffer(string: #"{"rule": \#(rule)}"#))
        let object = try jsonObject(response)
        #expect(response.status == .ok, "\(rule): \(object)")
        let sample = (object["sample"] as? [[String: Any]] ?? []).compactMap { $0["title"] as? String }
        #expect(object["count"] as? Int == sample.count)
        return Set(sample)
    }

    @Test func everyKindOfConditionFindsItsKnownMembers() async throws {
        try await PanelHarness.with { harness, client in
            let (db, auth, ids) = try await Self.seed(harness, client)
            let cases: [(String, Set<String>)] = [
                // Behaviour.
                (#"{"activity": {"kind": "message.opened", "where": [{"property": "campaign", "op": "eq", "value": "c1"}], "within_last_days": 30}}"#, ["ann@x.io"]),
                (#"{"activity": {"kind": "site.visit", "where": [{"property": "url", "op": "contains", "value": "/catalog"}], "count": {"op": "gte", "value": 3}}}"#, ["ann@x.io"]),
                (#"{"not": {"activity": {"kind": "message.clicked", "within_last_days": 90}}}"#, ["ann@x.io", "bob@x.io", "dan@x.io", "eve@x.io"]),
                (#"{"activity": {"kind": "message.*", "within_last_days": 30}}"#, ["ann@x.io", "bob@x.io", "cat@x.io"]),
                // Transactions.
                (#"{"table": {"field": "orders", "aggregate": "sum", "column": "amount", "op": "gt", "value": 5000, "date_column": "date", "within_last_days": 90}}"#, ["ann@x.io"]),
                (#"{"table": {"field": "orders", "aggregate": "count", "op": "eq", "value": 0}}"#, ["dan@x.io", "eve@x.io"]),
                (#"{"table": {"field": "orders", "aggregate": "max", "column": "date", "op": "lt", "value": "\#(Self.day(100))"}}"#, ["bob@x.io"]),
                // Interests and goals.
                (#"{"field": "interests", "op": "contains", "value": "ski"}"#, ["ann@x.io"]),
                (#"{"activity": {"kind": "goal.reached", "where": [{"property": "goal", "op": "eq", "value": "signup"}]}}"#, ["ann@x.io"]),
                // Devices.
                (#"{"any": [{"subscription": {"channel": "web_push"}}, {"subscription": {"channel": "mobile_push"}}]}"#, ["ann@x.io", "cat@x.io"]),
                (#"{"activity": {"kind": "site.visit", "where": [{"property": "browser", "op": "eq", "value": "Firefox"}]}}"#, ["cat@x.io"]),
                // Subscriptions and their status.
                (#"{"subscription": {"channel": "email", "status": "unsubscribed"}}"#, ["bob@x.io"]),
                // Loyalty.
                (#"{"table": {"field": "loyalty", "where": {"field": "level", "op": "eq", "value": "gold"}}}"#, ["ann@x.io"]),
                // Relations: has a referrer who is VIP; is the referrer of someone in Molde.
                (#"{"related": {"kind": "referrer", "rule": {"field": "vip", "op": "eq", "value": true}}}"#, ["dan@x.io"]),
                (#"{"related": {"kind": "referrer", "direction": "incoming", "rule": {"field": "city", "op": "eq", "value": "Molde"}}}"#, ["bob@x.io"]),
            ]
            for (rule, expected) in cases {
                #expect(try await Self.members(client, db, auth, rule) == expected, "\(rule)")
            }

            // Membership of other segments, dynamic and fixed.
            let oslo = try jsonObject(try await client.execute(uri: "/api/v1/databases/\(db)/segments", method: .post, headers: auth,
                                                              body: ByteBuffer(string: #"{"name": "Oslo", "rule": {"field": "city", "op": "eq", "value": "Oslo"}}"#)))
            let osloId = try #require(oslo["id"] as? String)
            let fixed = try jsonObject(try await client.execute(uri: "/api/v1/databases/\(db)/segments", method: .post, headers: auth,
                                                               body: ByteBuffer(string: #"{"name": "Picked", "kind": "fixed"}"#)))
            let fixedId = try #require(fixed["id"] as? String)
            _ = try await client.execute(uri: "/api/v1/segments/\(fixedId)/members", method: .post, headers: auth, body: ByteBuffer(string: #"{"profileId": "\#(ids["eve@x.io"]!)"}"#))
            #expect(try await Self.members(client, db, auth, #"{"segment": "\#(osloId)"}"#) == ["ann@x.io", "cat@x.io"])
            #expect(try await Self.members(client, db, auth, #"{"any": [{"segment": "\#(osloId)"}, {"segment": "\#(fixedId)"}]}"#) == ["ann@x.io", "cat@x.io", "eve@x.io"])

            // A segment that would include itself is refused at the place; a segment in use cannot be deleted.
            let loop = try await client.execute(uri: "/api/v1/segments/\(osloId)", method: .put, headers: auth,
                                                body: ByteBuffer(string: #"{"rule": {"all": [{"segment": "\#(osloId)"}]}}"#))
            #expect(loop.status == .unprocessableContent && String(buffer: loop.body).contains("includes itself"))
            let user = try await client.execute(uri: "/api/v1/databases/\(db)/segments", method: .post, headers: auth,
                                                body: ByteBuffer(string: #"{"name": "Oslo VIP", "rule": {"all": [{"segment": "\#(osloId)"}, {"field": "vip", "op": "eq", "value": true}]}}"#))
            #expect(try jsonObject(user)["count"] as? Int == 1)
            let refused = try await client.execute(uri: "/api/v1/segments/\(osloId)", method: .delete, headers: auth)
            #expect(refused.status == .unprocessableContent && String(buffer: refused.body).contains("Oslo VIP"))

            // Errors name the condition that is wrong; every one of them.
            let wrong = try await client.execute(uri: "/api/v1/databases/\(db)/segments/preview", method: .post, headers: auth, body: ByteBuffer(string: #"""
                {"rule": {"all": [{"table": {"field": "orders", "aggregate": "sum", "column": "date", "op": "gt", "value": 1}},
                                  {"activity": {"kind": "Message Opened"}}, {"segment": "000000000000000000000000"}]}}
                """#))
            #expect(wrong.status == .unprocessableContent)
            let places = (try jsonObject(wrong)["errors"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
            #expect(places == ["rule.all[0].table.column", "rule.all[1].activity.kind", "rule.all[2].segment"])

            // One profile at a time, as triggers ask: the rule evaluated in process.
            let behaviour = try jsonObject(try await client.execute(uri: "/api/v1/databases/\(db)/segments", method: .post, headers: auth, body: ByteBuffer(string: #"""
                {"name": "Catalog lovers", "rule": {"activity": {"kind": "site.visit", "where": [{"property": "url", "op": "starts_with", "value": "/catalog"}], "count": {"op": "gte", "value": 3}}}}
                """#)))
            let behaviourId = try #require(behaviour["id"] as? String)
            for (email, member) in [("ann@x.io", true), ("cat@x.io", false)] {
                let answer = try jsonObject(try await client.execute(uri: "/api/v1/segments/\(behaviourId)/members/\(ids[email]!)", method: .get, headers: auth))
                #expect(answer["member"] as? Bool == member, "\(email)")
            }
        }
    }
}

extension AudienceKindsTests {
    /// A sending freezes its segment once: asked again (a restarted campaign) it gets the same
    /// copy, completed if an earlier attempt stopped half-way, never with a member twice; and the
    /// copy stays as it was while profiles change.
    @Test func aSegmentIsFrozenOncePerSendingAndStaysFrozen() async throws {
        try await PanelHarness.with { harness, client in
            let (db, auth, ids) = try await Self.seed(harness, client)
            let oslo = try jsonObject(try await client.execute(uri: "/api/v1/databases/\(db)/segments", method: .post, headers: auth,
                                                              body: ByteBuffer(string: #"{"name": "Oslo", "rule": {"field": "city", "op": "eq", "value": "Oslo"}}"#)))
            let sid = try #require(oslo["id"] as? String)
            let first = try jsonObject(try await client.execute(uri: "/api/v1/segments/\(sid)/freeze", method: .post, headers: auth,
                                                               body: ByteBuffer(string: #"{"sendingId": "run-1"}"#)))
            #expect(first["sendingId"] as? String == "run-1" && first["frozenFrom"] as? String == sid && first["count"] as? Int == 2)
            let copyId = try #require(first["id"] as? String)

            // Dan moves to Oslo mid-send: the live segment has him, the sending's copy does not.
            _ = try await client.execute(uri: "/api/v1/databases/\(db)/profiles/bulk", method: .post, headers: auth,
                                         body: ByteBuffer(string: #"{"profiles": [{"fields": {"email": "dan@x.io", "city": "Oslo"}}]}"#))
            #expect(try jsonObject(try await client.execute(uri: "/api/v1/segments/\(sid)", method: .get, headers: auth))["count"] as? Int == 3)
            let again = try jsonObject(try await client.execute(uri: "/api/v1/segments/\(sid)/freeze", method: .post, headers: auth,
                                                               body: ByteBuffer(string: #"{"sendingId": "run-1"}"#)))
            #expect(again["id"] as? String == copyId && again["count"] as? Int == 2)

            // An interrupted freeze (no completion mark, one member written) is completed, not doubled.
            var copy = try #require(try await harness.panel.segments.segments.findOne(["_id": .string(copyId)]))
            copy.frozenAt = nil
            _ = try await harness.panel.segments.segments.replaceOne(filter: ["_id": .string(copyId)], replacement: copy)
            _ = try await harness.panel.segments.members.deleteMany(["segmentId": .string(copyId), "profileId": .string(ids["cat@x.io"]!)])
            let completed = try jsonObject(try await client.execute(uri: "/api/v1/segments/\(sid)/freeze", method: .post, headers: auth,
                                                                   body: ByteBuffer(string: #"{"sendingId": "run-1"}"#)))
            #expect(completed["id"] as? String == copyId && completed["count"] as? Int == 3)
            #expect(try await harness.panel.segments.members.countDocuments(["segmentId": .string(copyId)]) == 3)

            // Another sending gets its own copy; copies for sendings are not listed among segments.
            let second = try jsonObject(try await client.execute(uri: "/api/v1/segments/\(sid)/freeze", method: .post, headers: auth,
                                                                body: ByteBuffer(string: #"{"sendingId": "run-2"}"#)))
            #expect(second["id"] as? String != copyId && second["count"] as? Int == 3)
            let listed = try jsonObject(try await client.execute(uri: "/api/v1/databases/\(db)/segments", method: .get, headers: auth))["items"] as? [[String: Any]]
            #expect(listed?.compactMap { $0["name"] as? String } == ["Oslo"])
            let browser = Browser(client)
            _ = try await browser.logIn("admin@alpha.test", PanelHarness.adminPassword)
            let page = try await browser.get("/databases/\(db)/segments/\(sid)")
            #expect(page.body.contains(">run-1</a>") && page.body.contains(">run-2</a>"))
        }
    }
}

/// A segment's members leave Herald three ways: an export, a copy into another database, and a
/// scheduled sync to an SQL table (PostgreSQL and MariaDB started for the test).
@Suite struct SegmentOutputTests {
    static func waitForExport(_ harness: PanelHarness, _ id: String) async throws -> ExportJob {
        for _ in 0..<400 {
            if let job = try await harness.panel.imports.jobs.exports.findOne(["_id": .string(id)]), job.state.isFinished { return job }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestServerError(message: "the export did not finish")
    }

    @Test func aSegmentIsExportedAndCopiedWithExactlyItsMembers() async throws {
        try await PanelHarness.with(imports: true) { harness, client in
            let (db, auth, _) = try await AudienceKindsTests.seed(harness, client)
            let segment = try jsonObject(try await client.execute(uri: "/api/v1/databases/\(db)/segments", method: .post, headers: auth, body: ByteBuffer(string: #"""
                {"name": "Catalog visitors", "rule": {"activity": {"kind": "site.visit", "where": [{"property": "url", "op": "contains", "value": "/catalog"}]}}}
                """#)))
            let sid = try #require(segment["id"] as? String)
            let started = try jsonObject(try await client.execute(uri: "/api/v1/databases/\(db)/exports", method: .post, headers: auth,
                                                                 body: ByteBuffer(string: #"{"format": "csv", "segmentId": "\#(sid)"}"#)))
            #expect(started["segmentId"] as? String == sid)
            let job = try await Self.waitForExport(harness, try #require(started["id"] as? String))
            #expect(job.state == .succeeded && job.written == 2, "\(job.message)")
            let file = String(buffer: try await client.execute(uri: "/api/v1/exports/\(job._id)/file", method: .get, headers: auth).body)
            #expect(file.contains("ann@x.io") && file.contains("cat@x.io") && !file.contains("bob@x.io") && file.split(separator: "\r\n").count == 3)

            let target = try await ImportTests.database(harness, client, auth: auth, fields: AudienceKindsTests.schema)
            let copy = try jsonObject(try await client.execute(uri: "/api/v1/databases/\(target)/copies", method: .post, headers: auth,
                                                              body: ByteBuffer(string: #"{"sourceDatabaseId": "\#(db)", "sourceSegmentId": "\#(sid)"}"#)))
            let done = try await harness.waitForImport(try #require(copy["id"] as? String))
            #expect(done.state == .succeeded && done.counters.created == 2, "\(done.message)")

            // A segment of another database is not a source of this copy.
            let stray = try await client.execute(uri: "/api/v1/databases/\(target)/copies", method: .post, headers: auth,
                                                 body: ByteBuffer(string: #"{"sourceDatabaseId": "\#(target)", "sourceSegmentId": "\#(sid)"}"#))
            #expect(stray.status != .accepted)
        }
    }

    /// The members in the table, with their city, after each run.
    func checkSyncs(url: String, rows: @escaping @Sendable (String) async throws -> [[String]]) async throws {
        try await PanelHarness.with(imports: true) { harness, client in
            let (db, auth, ids) = try await AudienceKindsTests.seed(harness, client)
            let segment = try jsonObject(try await client.execute(uri: "/api/v1/databases/\(db)/segments", method: .post, headers: auth,
                                                                 body: ByteBuffer(string: #"{"name": "Oslo", "rule": {"field": "city", "op": "eq", "value": "Oslo"}}"#)))
            let sid = try #require(segment["id"] as? String)
            let wrongTable = try await client.execute(uri: "/api/v1/segments/\(sid)/syncs", method: .post, headers: auth,
                                                      body: ByteBuffer(string: #"{"name": "Bad", "url": "\#(url)", "table": "members; DROP TABLE x", "fields": ["city"]}"#))
            #expect(wrongTable.status == .unprocessableContent && String(buffer: wrongTable.body).contains("\"field\":\"table\""))
            var syncIds: [String] = []
            for mode in ["full", "incremental"] {
                let created = try await client.execute(uri: "/api/v1/segments/\(sid)/syncs", method: .post, headers: auth, body: ByteBuffer(string: #"""
                    {"name": "To \#(mode)", "url": "\#(url)", "table": "oslo_\#(mode)", "fields": ["email", "city"], "mode": "\#(mode)", "intervalMinutes": 60}
                    """#))
                #expect(created.status == .created, "\(String(buffer: created.body))")
                #expect(!String(buffer: created.body).contains("secret@"))
                syncIds.append(try #require(try jsonObject(created)["id"] as? String))
            }
            let logger = TestEnvironment.logger("sync")
            let scheduler = SQLSyncScheduler(runner: ImportRunner(jobs: harness.panel.imports.jobs, databases: harness.panel.customers.databases,
                                                                  writer: harness.panel.customers.writer, logger: logger),
                                             segmentRunner: SegmentSyncRunner(jobs: harness.panel.imports.jobs, databases: harness.panel.customers.databases,
                                                                              profiles: harness.panel.customers.profiles, logger: logger), logger: logger)
            // (An incremental run rewrites what changed since a second before the last run started:
            // the seeded profiles are older than that.)
            try await Task.sleep(for: .milliseconds(1100))
            #expect(try await scheduler.runDue() == 2)
            for mode in ["full", "incremental"] {
                #expect(Set(try await rows("SELECT profile_id, email, city FROM oslo_\(mode)").map { $0.joined(separator: "|") })
                    == ["\(ids["ann@x.io"]!)|ann@x.io|Oslo", "\(ids["cat@x.io"]!)|cat@x.io|Oslo"], "\(mode)")
            }
            // Cat moves away, Dan moves to Oslo: both kinds of sync end with exactly the members.
            _ = try await client.execute(uri: "/api/v1/databases/\(db)/profiles/bulk", method: .post, headers: auth, body: ByteBuffer(string: #"""
                {"profiles": [{"fields": {"email": "cat@x.io", "city": "Perm"}}, {"fields": {"email": "dan@x.io", "city": "Oslo"}}]}
                """#))
            for id in syncIds {
                let run = try await client.execute(uri: "/api/v1/segment-syncs/\(id)/run", method: .post, headers: auth)
                #expect(run.status == .accepted, "\(run.status) \(String(buffer: run.body))")
            }
            #expect(try await scheduler.runDue() == 2)
            for mode in ["full", "incremental"] {
                #expect(Set(try await rows("SELECT profile_id, email, city FROM oslo_\(mode)").map { $0.joined(separator: "|") })
                    == ["\(ids["ann@x.io"]!)|ann@x.io|Oslo", "\(ids["dan@x.io"]!)|dan@x.io|Oslo"], "\(mode)")
            }
            let view = try await client.execute(uri: "/api/v1/segment-syncs/\(syncIds[1])", method: .get, headers: auth)
            let last = try #require(try jsonObject(view)["lastRun"] as? [String: Any])
            // Only Dan was written (Ann did not change), Cat deleted.
            #expect(String(buffer: view.body).contains(#""succeeded":true"#) && last["written"] as? Int == 1 && last["deleted"] as? Int == 1, "\(last)")
            #expect(try await harness.auditActions().contains("segment_sync.create"))
        }
    }

    @Test func aSegmentSyncsToPostgreSQL() async throws {
        let postgres = try await PostgresServer()
        do {
            try await checkSyncs(url: postgres.url) { try await postgres.rows($0) }
        } catch {
            await postgres.stop()
            throw error
        }
        await postgres.stop()
    }

    @Test func aSegmentSyncsToMariaDB() async throws {
        let mariadb = try await MariaDBServer()
        do {
            try await checkSyncs(url: mariadb.url) { try await mariadb.rows($0) }
        } catch {
            await mariadb.stop()
            throw error
        }
        await mariadb.stop()
    }
}
