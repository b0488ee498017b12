import BSON
import ControlPanel
import CustomerData
import DataJobs
import Foundation
import HeraldTesting
import Hummingbird
import HummingbirdTesting
import Testing

/// Scheduled imports from a real PostgreSQL server, started for the test.
@Suite struct SQLSyncTests {
    @Test func theSameCustomersFromCSVAndPostgreSQLBecomeOneProfileEachAndLaterRunsReadOnlyNewRows() async throws {
        let postgres = try await PostgresServer()
        do {
            try await postgres.execute("""
                CREATE TABLE customers (id serial PRIMARY KEY, email text, name text, city text);
                INSERT INTO customers (email, name, city) VALUES ('anna@example.com', 'Anna', 'Oslo'), ('BOB@example.com', 'Bob', 'Bergen'), ('cid@example.com', 'Cid', 'Molde');
                """)
            try await PanelHarness.with(imports: true) { harness, client in
                var auth = try await ImportTests.token(harness)
                let id = try await ImportTests.database(harness, client, auth: auth, fields: #"""
                    [{"key": "email", "type": "email", "unique": true}, {"key": "first_name", "type": "string"}, {"key": "phone", "type": "phone"}, {"key": "city", "type": "string"}]
                    """#)
                // Two of them arrive first from a CSV file, with phone numbers.
                let csv = "email,phone\nanna@example.com,+4790000001\nbob@example.com,+4790000002\n"
                let upload = try await client.execute(uri: "/api/v1/databases/\(id)/imports?name=first.csv", method: .post, headers: auth, body: ByteBuffer(string: csv))
                let uploadId = try #require(try JSONSerialization.jsonObject(with: Data(buffer: upload.body)) as? [String: Any])["id"] as? String
                #expect(try await harness.waitForImport(uploadId!).counters.created == 2)

                auth[.contentType] = "application/json"
                let wrong = try await client.execute(uri: "/api/v1/databases/\(id)/syncs", method: .post, headers: auth, body: ByteBuffer(string: #"""
                    {"name": "Shop", "url": "postgresql://postgres@127.0.0.1:\#(FreePort.next())/postgres", "query": "SELECT * FROM customers",
                     "cursorColumn": "id", "mapping": {"email": "email"}, "intervalMinutes": 60}
                    """#))
                #expect(wrong.status == .unprocessableContent && String(buffer: wrong.body).contains("cannot connect to PostgreSQL"))
                let noCursor = try await client.execute(uri: "/api/v1/databases/\(id)/syncs", method: .post, headers: auth, body: ByteBuffer(string: #"""
                    {"name": "Shop", "url": "\#(postgres.url)", "query": "SELECT email, name FROM customers", "cursorColumn": "id",
                     "mapping": {"email": "email"}, "intervalMinutes": 60}
                    """#))
                #expect(String(buffer: noCursor.body).contains("the query has no column 'id'; it has email, name"))

                let created = try await client.execute(uri: "/api/v1/databases/\(id)/syncs", method: .post, headers: auth, body: ByteBuffer(string: #"""
                    {"name": "Shop", "url": "\#(postgres.url)", "query": "SELECT id, email, name, city FROM customers", "cursorColumn": "id",
                     "mapping": {"email": "email", "name": "first_name", "city": "city"}, "intervalMinutes": 60}
                    """#))
                #expect(created.status == .created, "\(String(buffer: created.body))")
                let sync = try #require(try JSONSerialization.jsonObject(with: Data(buffer: created.body)) as? [String: Any])
                let syncId = try #require(sync["id"] as? String)
                #expect((sync["url"] as? String)?.contains("***") == false)  // no password in this URL to hide
                let scheduler = SQLSyncScheduler(runner: ImportRunner(jobs: harness.panel.imports.jobs, databases: harness.panel.customers.databases,
                                                                      writer: harness.panel.customers.writer, logger: TestEnvironment.logger("sync")),
                                                 logger: TestEnvironment.logger("sync"))
                #expect(try await scheduler.runDue() == 1)
                let first = try #require(try await harness.panel.imports.jobs.jobs.findOne(["syncId": .string(syncId)]))
                #expect(first.state == .succeeded && first.counters.read == 3 && first.counters.updated == 2 && first.counters.created == 1, "\(first.message)")
                let database = try #require(try await harness.panel.customers.databases.findOne(["_id": .string(id)]))
                #expect(try await harness.panel.customers.profiles.count(database) == 3)
                let bob = try #require(try await harness.panel.customers.profiles.list(database, search: "bob@example.com").first)
                #expect(bob.fields.isEquivalent(to: ["email": "bob@example.com", "phone": "+4790000002", "first_name": "Bob", "city": "Bergen"]))
                // Not due again for an hour.
                #expect(try await scheduler.runDue() == 0)

                // A cron-like schedule instead of minutes: refused by field when wrong; otherwise the first run is its first time.
                let badCron = try await client.execute(uri: "/api/v1/databases/\(id)/syncs", method: .post, headers: auth, body: ByteBuffer(string: #"""
                    {"name": "Nightly", "url": "\#(postgres.url)", "query": "SELECT id, email FROM customers", "cursorColumn": "id",
                     "mapping": {"email": "email"}, "cron": "0 3 * *"}
                    """#))
                #expect(badCron.status == .unprocessableContent && String(buffer: badCron.body).contains("\"field\":\"cron\""))
                let nightly = try JSONSerialization.jsonObject(with: Data(buffer: try await client.execute(uri: "/api/v1/databases/\(id)/syncs", method: .post,
                                                                                                           headers: auth, body: ByteBuffer(string: #"""
                    {"name": "Nightly", "url": "\#(postgres.url)", "query": "SELECT id, email FROM customers", "cursorColumn": "id",
                     "mapping": {"email": "email"}, "cron": "0 3 * * *", "timeZone": "Europe/Moscow"}
                    """#)).body)) as? [String: Any]
                // 03:00 in Moscow is midnight UTC: the next one.
                var utc = Calendar(identifier: .gregorian)
                utc.timeZone = .gmt
                let midnight = utc.date(byAdding: .day, value: 1, to: utc.startOfDay(for: Date()))!
                #expect(nightly?["cron"] as? String == "0 3 * * *" && nightly?["nextRun"] as? String == midnight.formatted(.iso8601))
                #expect(try await scheduler.runDue() == 0, "not due before its time")

                try await postgres.execute("INSERT INTO customers (email, name, city) VALUES ('dan@example.com', 'Dan', 'Oslo'), ('eve@example.com', 'Eve', 'Oslo')")
                #expect(try await client.execute(uri: "/api/v1/syncs/\(syncId)/run", method: .post, headers: auth).status == .accepted)
                #expect(try await scheduler.runDue() == 1)
                let runs = try await harness.panel.imports.jobs.jobs.find(["syncId": .string(syncId)], options: .init(sort: ["createdAt": -1])).collect()
                #expect(runs.count == 2)
                #expect(runs.first?.counters.read == 2 && runs.first?.counters.created == 2, "\(runs.first?.message ?? "")")
                #expect(try await harness.panel.customers.profiles.count(database) == 5)
                #expect(try await harness.auditActions().contains("sync.create"))
            }
        } catch {
            await postgres.stop()
            throw error
        }
        await postgres.stop()
    }

    @Test func aMariaDBSourceImportsAndLaterRunsReadOnlyNewRows() async throws {
        let mariadb = try await MariaDBServer()
        do {
            try await mariadb.execute("""
                CREATE TABLE clients (id INT AUTO_INCREMENT PRIMARY KEY, mail VARCHAR(200), full_name VARCHAR(200), changed DATETIME);
                INSERT INTO clients (mail, full_name, changed) VALUES ('ann@example.com', 'Анна', '2024-01-01 10:00:00'), ('ben@example.com', 'Ben', '2024-01-02 10:00:00');
                """)
            try await PanelHarness.with(imports: true) { harness, client in
                var auth = try await ImportTests.token(harness)
                let id = try await ImportTests.database(harness, client, auth: auth, fields: #"[{"key": "email", "type": "email", "unique": true}, {"key": "first_name", "type": "string"}]"#)
                auth[.contentType] = "application/json"
                let created = try await client.execute(uri: "/api/v1/databases/\(id)/syncs", method: .post, headers: auth, body: ByteBuffer(string: #"""
                    {"name": "CRM", "url": "\#(mariadb.url)", "query": "SELECT mail, full_name, changed FROM clients", "cursorColumn": "changed",
                     "mapping": {"mail": "email", "full_name": "first_name"}, "intervalMinutes": 15}
                    """#))
                #expect(created.status == .created, "\(String(buffer: created.body))")
                let view = try #require(try JSONSerialization.jsonObject(with: Data(buffer: created.body)) as? [String: Any])
                #expect(view["url"] as? String == mariadb.url.replacingOccurrences(of: ":secret@", with: ":***@"))
                let syncId = try #require(view["id"] as? String)
                let scheduler = SQLSyncScheduler(runner: ImportRunner(jobs: harness.panel.imports.jobs, databases: harness.panel.customers.databases,
                                                                      writer: harness.panel.customers.writer, logger: TestEnvironment.logger("sync")),
                                                 logger: TestEnvironment.logger("sync"))
                #expect(try await scheduler.runDue() == 1)
                try await mariadb.execute("INSERT INTO clients (mail, full_name, changed) VALUES ('cat@example.com', 'Cat', '2024-01-03 10:00:00'); UPDATE clients SET full_name = 'Benjamin', changed = '2024-01-04 10:00:00' WHERE id = 2;")
                _ = try await client.execute(uri: "/api/v1/syncs/\(syncId)/run", method: .post, headers: auth)
                #expect(try await scheduler.runDue() == 1)
                let runs = try await harness.panel.imports.jobs.jobs.find(["syncId": .string(syncId)], options: .init(sort: ["createdAt": 1])).collect()
                #expect(runs.map(\.counters.read) == [2, 2] && runs.last?.counters.created == 1 && runs.last?.counters.updated == 1, "\(runs.map(\.message))")
                let database = try #require(try await harness.panel.customers.databases.findOne(["_id": .string(id)]))
                let ben = try #require(try await harness.panel.customers.profiles.list(database, search: "ben@example.com").first)
                #expect(ben[field: "first_name"] == "Benjamin")
                let ann = try #require(try await harness.panel.customers.profiles.list(database, search: "ann@example.com").first)
                #expect(ann[field: "first_name"] == "Анна")
            }
        } catch {
            await mariadb.stop()
            throw error
        }
        await mariadb.stop()
    }
}
