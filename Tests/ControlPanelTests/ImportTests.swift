import BSON
import ControlPanel
import CustomerData
import DataJobs
import Foundation
import HeraldTesting
import Hummingbird
import HummingbirdTesting
import Testing

/// Imports end to end: the panel or the API stores the file and queues the job on the real
/// broker, the import worker runs it against the real stores.
@Suite struct ImportTests {
    static func token(_ harness: PanelHarness) async throws -> HTTPFields {
        let admin = try await harness.identity("admin@alpha.test", PanelHarness.adminPassword)
        let (_, token) = try await harness.panel.administration.createToken(
            name: "imports", scopes: ["databases:view", "databases:create", "profiles:view", "profiles:create", "profiles:edit", "profiles:import"],
            expiresInDays: nil, by: admin)
        return [.authorization: "Bearer \(token)"]
    }

    static func database(_ harness: PanelHarness, _ client: any TestClientProtocol, auth: HTTPFields, fields: String? = nil) async throws -> String {
        var headers = auth
        headers[.contentType] = "application/json"
        let name = "Imported " + UUID().uuidString.prefix(6)
        let body = fields.map { #"{"name": "\#(name)", "fields": \#($0)}"# } ?? #"{"name": "\#(name)"}"#
        let response = try await client.execute(uri: "/api/v1/databases", method: .post, headers: headers, body: ByteBuffer(string: body))
        let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
        return try #require(object?["id"] as? String)
    }

    /// Windows-1251, semicolons, Russian headers, as Excel saves "CSV" on a Russian Windows; one row in 20 is bad.
    static func windows1251CSV() -> [UInt8] {
        var text = "E-mail;Имя;Телефон;Город\r\n"
        for i in 1...40 {
            let email = i % 20 == 0 ? "плохой-адрес-\(i)" : "client\(i)@example.ru"
            text += "\(email);Клиент \(i);+7 912 000-00-\(String(format: "%02d", i));Пермь\r\n"
        }
        return Array(text.data(using: .windowsCP1251)!)
    }

    @Test func aWindows1251CSVUploadedInThePanelImportsTheGoodRowsAndReportsTheBad() async throws {
        try await PanelHarness.with(imports: true) { harness, client in
            let auth = try await Self.token(harness)
            let id = try await Self.database(harness, client, auth: auth,
                                             fields: #"[{"key": "email", "type": "email", "unique": true}, {"key": "first_name", "type": "string"}, {"key": "phone", "type": "phone", "unique": true}, {"key": "city", "type": "string"}]"#)
            let browser = Browser(client)
            _ = try await browser.logIn("admin@alpha.test", PanelHarness.adminPassword)
            let page = try await browser.get("/databases/\(id)/imports")
            let csrf = try #require(page.body.firstMatch(of: /data-csrf="([^"]+)"/)?.1)
            var headers = HTTPFields()
            headers[.init("X-CSRF-Token")!] = String(csrf)
            let uploaded = try await browser.request(.post, "/databases/\(id)/imports/upload?name=clients.csv", body: String(decoding: [], as: UTF8.self),
                                                     contentType: "application/octet-stream", extra: headers, bytes: Self.windows1251CSV())
            #expect(uploaded.status == .created)
            let location = try #require(try JSONSerialization.jsonObject(with: Data(uploaded.body.utf8)) as? [String: Any])["location"] as? String
            let mapping = try await browser.get(try #require(location))
            // Columns were matched to fields by their Russian and English headers, and the preview decoded Windows-1251.
            #expect(mapping.body.contains("<option value=\"email\" selected>"))
            #expect(mapping.body.contains("<option value=\"first_name\" selected>"))
            #expect(mapping.body.contains("<option value=\"phone\" selected>"))
            #expect(mapping.body.contains("Клиент 1<"))
            let started = try await browser.post("\(location!)/start", [("map_0", "email"), ("map_1", "first_name"), ("map_2", "phone"), ("map_3", "city"),
                                                                         ("mode", "upsert"), ("hasHeader", "on")])
            #expect(started.location == location)
            let jobId = String(location!.split(separator: "/").last!)
            let job = try await harness.waitForImport(jobId)
            #expect(job.state == .succeeded)
            #expect(job.counters.read == 40 && job.counters.created == 38 && job.counters.rejected == 2)
            let errors = try await browser.get("\(location!)/errors.csv")
            #expect(errors.body == "line,column,reason\r\n\"21\",\"E-mail\",\"'плохой-адрес-20' is not an e-mail address\"\r\n\"41\",\"E-mail\",\"'плохой-адрес-40' is not an e-mail address\"\r\n")
            let database = try #require(try await harness.panel.customers.databases.findOne(["_id": .string(id)]))
            let anna = try #require(try await harness.panel.customers.profiles.list(database, search: "client7@example.ru").first)
            #expect(anna.fields.isEquivalent(to: ["email": "client7@example.ru", "first_name": "Клиент 7", "phone": "+79120000007", "city": "Пермь"]))
            // The same file again changes nothing: every customer is found again.
            let again = try await harness.panel.imports.upload(fileName: "clients.csv", format: nil, into: id, body: ByteBlocks.single(Self.windows1251CSV()),
                                                               by: try await harness.identity("admin@alpha.test", PanelHarness.adminPassword))
            _ = try await harness.panel.imports.start(again._id, mapping: nil, mode: .upsert, hasHeader: true, by: try await harness.identity("admin@alpha.test", PanelHarness.adminPassword))
            let second = try await harness.waitForImport(again._id)
            #expect(second.counters.unchanged == 38 && second.counters.created == 0)
            #expect(try await harness.auditActions().contains("import.start"))
        }
    }

    @Test(arguments: ["contacts.xls", "contacts.xlsx"])
    func spreadsheetsFromRealWritersImportThroughTheAPI(_ file: String) async throws {
        try await PanelHarness.with(imports: true) { harness, client in
            let auth = try await Self.token(harness)
            let id = try await Self.database(harness, client, auth: auth, fields: #"""
                [{"key": "email", "type": "email", "unique": true}, {"key": "first_name", "type": "string"}, {"key": "city", "type": "string"},
                 {"key": "orders", "type": "integer"}, {"key": "spent", "type": "decimal"}, {"key": "birthday", "type": "date"}]
                """#)
            let bytes = try Data(contentsOf: TestEnvironment.repositoryRoot.appendingPathComponent("Tests/ImportsTests/Fixtures/\(file)"))
            let response = try await client.execute(uri: "/api/v1/databases/\(id)/imports?name=\(file)", method: .post, headers: auth, body: ByteBuffer(bytes: bytes))
            #expect(response.status == .accepted)
            let jobId = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])["id"] as? String
            let job = try await harness.waitForImport(try #require(jobId))
            let rejected = try await harness.panel.imports.jobs.errors.find(["jobId": .string(job._id)]).collect().map { "\($0.line) \($0.column): \($0.reason)" }
            #expect(job.state == .succeeded && job.counters.created == 3, "\(job.message) \(rejected)")
            // The XLSX fixture also has a blank row (ignored) and a row with TRUE in the e-mail column (rejected).
            #expect(rejected == (file == "contacts.xlsx" ? ["6 email: 'TRUE' is not an e-mail address"] : []))
            let database = try #require(try await harness.panel.customers.databases.findOne(["_id": .string(id)]))
            let ann = try #require(try await harness.panel.customers.profiles.list(database, search: "ann@example.com").first)
            #expect(ann.fields.isEquivalent(to: ["email": "ann@example.com", "first_name": "Анна", "city": "Москва", "orders": .int64(3),
                                                 "spent": .double(1534.75), "birthday": "1990-01-15"]))
            let progress = try await client.execute(uri: "/api/v1/imports/\(jobId!)", method: .get, headers: auth)
            #expect(String(buffer: progress.body).contains("\"state\":\"succeeded\""))
        }
    }

    @Test func aFileThatIsNotWhatItClaimsIsRefusedAndChangesNothing() async throws {
        try await PanelHarness.with(imports: true) { harness, client in
            let auth = try await Self.token(harness)
            let id = try await Self.database(harness, client, auth: auth)
            let garbage = try Data(contentsOf: TestEnvironment.repositoryRoot.appendingPathComponent("Tests/ImportsTests/Fixtures/garbage.xls"))
            for (name, body) in [("broken.xls", garbage), ("broken.xlsx", Data("PK\u{03}\u{04}not really a zip".utf8)),
                                 ("binary.csv", Data([0x00, 0x01, 0x02, 0xFF, 0x00, 0x10] + Array(repeating: 0, count: 100)))] {
                let response = try await client.execute(uri: "/api/v1/databases/\(id)/imports?name=\(name)", method: .post, headers: auth, body: ByteBuffer(bytes: body))
                #expect(response.status == .unprocessableContent, "\(name)")
                #expect(String(buffer: response.body).contains(name), "\(name): \(String(buffer: response.body))")
            }
            #expect(try await harness.panel.imports.jobs.jobs.countDocuments() == 0)
            #expect(try await harness.panel.imports.jobs.chunks.countDocuments() == 0)
            let unknown = try await client.execute(uri: "/api/v1/databases/\(id)/imports?name=data.pdf", method: .post, headers: auth, body: ByteBuffer(string: "x"))
            #expect(String(buffer: unknown.body).contains("name it .csv, .txt, .xls or .xlsx"))
        }
    }

    @Test func aCancelledImportStopsAndSaysSo() async throws {
        try await PanelHarness.with { harness, client in
            let auth = try await Self.token(harness)
            let id = try await Self.database(harness, client, auth: auth)
            let admin = try await harness.identity("admin@alpha.test", PanelHarness.adminPassword)
            let csv = "email\n" + (1...50).map { "c\($0)@x.io" }.joined(separator: "\n")
            let job = try await harness.panel.imports.upload(fileName: "c.csv", format: nil, into: id, body: ByteBlocks.single(Array(csv.utf8)), by: admin)
            // Cancelled before it was started: discarded with its file.
            try await harness.panel.imports.cancel(job._id, by: admin)
            #expect(try await harness.panel.imports.job(job._id, for: admin).state == .cancelled)
            #expect(try await harness.panel.imports.jobs.chunks.countDocuments(["jobId": .string(job._id)]) == 0)
            // Cancelled while queued: the worker stops after its first batch.
            let second = try await harness.panel.imports.upload(fileName: "c.csv", format: nil, into: id, body: ByteBlocks.single(Array(csv.utf8)), by: admin)
            var queued = second
            queued.state = .queued
            _ = try await harness.panel.imports.jobs.jobs.replaceOne(filter: ["_id": .string(second._id)], replacement: queued)
            try await harness.panel.imports.cancel(second._id, by: admin)
            try await ImportRunner(jobs: harness.panel.imports.jobs, databases: harness.panel.customers.databases, writer: harness.panel.customers.writer,
                                   logger: TestEnvironment.logger("imports")).run(jobId: second._id)
            let stopped = try await harness.panel.imports.job(second._id, for: admin)
            #expect(stopped.state == .cancelled && stopped.message == "cancelled after 50 rows")
        }
    }
}
