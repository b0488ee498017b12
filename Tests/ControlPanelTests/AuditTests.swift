import BSON
import ControlPanel
import Foundation
import HeraldTesting
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct AuditTests {
    @Test func changesAreRecordedWithBeforeAndAfterAndCanBeFilteredAndExported() async throws {
        try await PanelHarness.with { harness, client in
            let browser = Browser(client)
            _ = try await browser.logIn("admin@alpha.test", PanelHarness.adminPassword)
            _ = try await browser.get("/settings/security")
            _ = try await browser.post("/settings/security", [
                ("minimumLength", "12"), ("requiresLowercase", "on"), ("requiresUppercase", "on"), ("requiresDigit", "on"), ("historyCount", "3"),
                ("maximumAgeDays", "90"), ("lockoutAttempts", "4"), ("lockoutMinutes", "20"), ("sessionIdleMinutes", "30"), ("auditRetentionDays", "400"),
            ])
            let page = try await browser.get("/audit?action=settings.security")
            #expect(page.status == .ok)
            #expect(page.body.contains("<strong>minimumLength</strong>: 10 → 12"))
            #expect(page.body.contains("<strong>auditRetentionDays</strong>: 365 → 400"))
            #expect(!page.body.contains("<code>login.success</code>"))
            // Out-of-range values are refused with the field named, and nothing is saved.
            _ = try await browser.get("/settings/security")
            let bad = try await browser.post("/settings/security", [("minimumLength", "3"), ("historyCount", "3"), ("maximumAgeDays", "0"), ("lockoutAttempts", "4"),
                                                                    ("lockoutMinutes", "20"), ("sessionIdleMinutes", "30"), ("auditRetentionDays", "400")])
            #expect(bad.status == .unprocessableContent)
            #expect(bad.body.contains("minimumLength"))
            #expect(try await harness.panel.store.accounts.findOne(["_id": .string(harness.account._id)])?.passwordPolicy.minimumLength == 12)

            let search = try await browser.get("/audit?q=admin%40alpha&kind=user")
            #expect(search.body.contains("<code>login.success</code>"))
            let csv = try await browser.get("/audit.csv?action=settings.security")
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            let lines = csv.body.split(separator: "\r\n")
            #expect(lines.first == "at,actor,via,address,action,object_kind,object_id,object_name,changes")
            #expect(lines.count == 2)
            #expect(lines.last?.contains("\"settings.security\"") == true)
            // The export is itself a sensitive read, and audited.
            #expect(try await harness.auditActions().last == "audit.export")
        }
    }

    @Test func retentionSweepRemovesOnlyWhatThePolicyNoLongerKeeps() async throws {
        try await PanelHarness.with { harness, _ in
            let old = AuditEntry(_id: ObjectId().hex, accountId: harness.account._id, at: Date().addingTimeInterval(-400 * 86400), actorId: nil,
                                 actorLogin: "system", via: "system", address: "", action: "test.old", objectKind: "test", objectId: "",
                                 objectName: "", changes: [])
            var recent = old
            recent._id = ObjectId().hex
            recent.action = "test.recent"
            recent.at = Date().addingTimeInterval(-300 * 86400)
            try await harness.panel.store.audit.insertMany([old, recent])
            #expect(try await harness.panel.audit.sweep() == 1)
            let actions = try await harness.auditActions()
            #expect(actions.contains("test.recent") && !actions.contains("test.old"))
        }
    }

    @Test func formulaCellsAreNeutralisedInCSV() {
        #expect(AuditCSV.field("=HYPERLINK(\"x\")") == "\"'=HYPERLINK(\"\"x\"\")\"")
        #expect(AuditCSV.field("plain") == "\"plain\"")
    }
}
