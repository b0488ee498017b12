import BSON
import ControlPanel
import CustomerData
import DataJobs
import Foundation
import HeraldTesting
import Hummingbird
import HummingbirdTesting
import Testing

/// Export, then import the file into a new database: the same profiles come back.
@Suite struct ExportTests {
    static let schema = #"""
        [{"key": "email", "type": "email", "unique": true}, {"key": "nick", "type": "string"}, {"key": "age", "type": "integer"},
         {"key": "balance", "type": "decimal"}, {"key": "vip", "type": "boolean"}, {"key": "born", "type": "date"}, {"key": "seen", "type": "date_time"},
         {"key": "tier", "type": "enum", "options": ["basic", "pro"]}, {"key": "tags", "type": "string_list"},
         {"key": "orders", "type": "table", "columns": [{"key": "sku", "type": "string"}, {"key": "qty", "type": "integer"}]}]
        """#

    @Test(arguments: ["csv", "xlsx"])
    func exportThenReimportGivesTheSameProfiles(_ format: String) async throws {
        try await PanelHarness.with(imports: true) { harness, client in
            var auth = try await ImportTests.token(harness)
            let admin = try await harness.identity("admin@alpha.test", PanelHarness.adminPassword)
            let (_, exportToken) = try await harness.panel.administration.createToken(name: "export", scopes: ["databases:view", "profiles:view", "profiles:export"],
                                                                                      expiresInDays: nil, by: admin)
            let source = try await ImportTests.database(harness, client, auth: auth, fields: Self.schema)
            auth[.contentType] = "application/json"
            let rows = [
                #"{"fields": {"email": "a@x.io", "nick": "Anna, \"the\" first", "age": 42, "balance": 1234.5, "vip": true, "born": "1982-03-01", "seen": "2024-03-01T06:30:00Z", "tier": "pro", "tags": ["ski", "tennis"], "orders": [{"sku": "A-1", "qty": 2}]}}"#,
                #"{"fields": {"email": "b@x.io", "nick": "Bob\nNewline", "vip": false, "balance": 0.1}}"#,
                #"{"fields": {"email": "c@x.io"}}"#,
            ].joined(separator: ",")
            _ = try await client.execute(uri: "/api/v1/databases/\(source)/profiles/bulk", method: .post, headers: auth, body: ByteBuffer(string: #"{"profiles": [\#(rows)]}"#))

            let exportAuth: HTTPFields = [.authorization: "Bearer \(exportToken)", .contentType: "application/json"]
            let started = try await client.execute(uri: "/api/v1/databases/\(source)/exports", method: .post, headers: exportAuth, body: ByteBuffer(string: #"{"format": "\#(format)"}"#))
            #expect(started.status == .accepted)
            let jobId = try #require(try JSONSerialization.jsonObject(with: Data(buffer: started.body)) as? [String: Any])["id"] as? String
            var job: ExportJob?
            for _ in 0..<400 {
                job = try await harness.panel.imports.jobs.exports.findOne(["_id": .string(jobId!)])
                if job?.state.isFinished == true { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(job?.state == .succeeded && job?.written == 3, "\(job?.message ?? "")")
            let file = try await client.execute(uri: "/api/v1/exports/\(jobId!)/file", method: .get, headers: exportAuth)
            #expect(file.status == .ok)
            #expect(file.body.readableBytes == Int(job?.size ?? -1))
            if format == "csv" { #expect(String(buffer: file.body).hasPrefix("id,email,nick,age,balance,vip,born,seen,tier,tags,orders\r\n")) }
            let actions = try await harness.auditActions()
            #expect(actions.contains("export.start") && actions.contains("export.download"))

            let target = try await ImportTests.database(harness, client, auth: auth, fields: Self.schema)
            let imported = try await client.execute(uri: "/api/v1/databases/\(target)/imports?name=export.\(format)", method: .post,
                                                    headers: [.authorization: auth[.authorization]!], body: file.body)
            #expect(imported.status == .accepted, "\(String(buffer: imported.body))")
            let importId = try #require(try JSONSerialization.jsonObject(with: Data(buffer: imported.body)) as? [String: Any])["id"] as? String
            let done = try await harness.waitForImport(importId!)
            #expect(done.state == .succeeded && done.counters.created == 3 && done.counters.rejected == 0, "\(done.message)")
            let one = try #require(try await harness.panel.customers.databases.findOne(["_id": .string(source)]))
            let two = try #require(try await harness.panel.customers.databases.findOne(["_id": .string(target)]))
            for email in ["a@x.io", "b@x.io", "c@x.io"] {
                let original = try #require(try await harness.panel.customers.profiles.list(one, search: email).first)
                let copy = try #require(try await harness.panel.customers.profiles.list(two, search: email).first)
                #expect(copy.fields.isEquivalent(to: original.fields), "\(email): \(copy.fields) vs \(original.fields)")
            }
        }
    }

    @Test func profilesAreCopiedIntoAnotherDatabaseWithAFieldMapping() async throws {
        try await PanelHarness.with(imports: true) { harness, client in
            var auth = try await ImportTests.token(harness)
            let admin = try await harness.identity("admin@alpha.test", PanelHarness.adminPassword)
            let (_, copyToken) = try await harness.panel.administration.createToken(
                name: "copy", scopes: ["databases:view", "profiles:view", "profiles:import", "profiles:export", "profiles:create", "profiles:edit"],
                expiresInDays: nil, by: admin)
            let source = try await ImportTests.database(harness, client, auth: auth, fields: Self.schema)
            let target = try await ImportTests.database(harness, client, auth: auth, fields: #"""
                [{"key": "email", "type": "email", "unique": true}, {"key": "nickname", "type": "string"}, {"key": "age", "type": "decimal"}, {"key": "tags", "type": "string_list"}]
                """#)
            auth[.contentType] = "application/json"
            let rows = (1...30).map { #"{"fields": {"email": "p\#($0)@x.io", "nick": "P\#($0)", "age": \#($0), "tags": ["t\#($0)"]}}"# }.joined(separator: ",")
            _ = try await client.execute(uri: "/api/v1/databases/\(source)/profiles/bulk", method: .post, headers: auth, body: ByteBuffer(string: #"{"profiles": [\#(rows)]}"#))
            let response = try await client.execute(uri: "/api/v1/databases/\(target)/copies", method: .post,
                                                    headers: [.authorization: "Bearer \(copyToken)", .contentType: "application/json"],
                                                    body: ByteBuffer(string: #"{"sourceDatabaseId": "\#(source)", "mapping": {"email": "email", "nick": "nickname", "age": "age", "tags": "tags"}}"#))
            #expect(response.status == .accepted, "\(String(buffer: response.body))")
            let jobId = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])["id"] as? String
            let job = try await harness.waitForImport(try #require(jobId))
            #expect(job.state == .succeeded && job.counters.created == 30 && job.counters.rejected == 0, "\(job.message)")
            let copied = try #require(try await harness.panel.customers.databases.findOne(["_id": .string(target)]))
            let p7 = try #require(try await harness.panel.customers.profiles.list(copied, search: "p7@x.io").first)
            #expect(p7.fields.isEquivalent(to: ["email": "p7@x.io", "nickname": "P7", "age": .double(7), "tags": ["t7"]]))
            #expect(try await harness.auditActions().contains("import.copy"))
        }
    }
}
