import BSON
import ControlPanel
import CustomerData
import Foundation
import HeraldTesting
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct StopListTests {
    @Test func theStopListIsManagedThroughTheAPIAndEveryChangeIsAudited() async throws {
        try await PanelHarness.with { harness, client in
            let admin = try await harness.identity("admin@alpha.test", PanelHarness.adminPassword)
            let (_, token) = try await harness.panel.administration.createToken(name: "stop", scopes: ["channels:view", "channels:edit"], expiresInDays: nil, by: admin)
            let auth: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
            let added = try await client.execute(uri: "/api/v1/stop-list", method: .post, headers: auth, body: ByteBuffer(string: #"{"value": "Anna@Example.COM", "reason": "asked by phone"}"#))
            let addedEntry = try jsonObject(added)
            #expect(added.status == .created && addedEntry["value"] as? String == "anna@example.com")
            let again = try await client.execute(uri: "/api/v1/stop-list", method: .post, headers: auth, body: ByteBuffer(string: #"{"value": "anna@example.com"}"#))
            #expect(again.status == .unprocessableContent && String(buffer: again.body).contains("already on the stop list"))
            let bad = try await client.execute(uri: "/api/v1/stop-list", method: .post, headers: auth, body: ByteBuffer(string: #"{"kind": "domain", "value": "not a domain"}"#))
            #expect(bad.status == .unprocessableContent && String(buffer: bad.body).contains("\"field\":\"value\""))

            let imported = try jsonObject(try await client.execute(uri: "/api/v1/stop-list/import?reason=old%20list", method: .post, headers: [.authorization: "Bearer \(token)"],
                                                                  body: ByteBuffer(string: "value,reason\n@spam.example,spam trap domain\n+47 900 00 000\nnot an address@@\nanna@example.com\n")))
            #expect(imported["added"] as? Int == 2 && imported["alreadyListed"] as? Int == 1)
            #expect((imported["rejected"] as? [[String: Any]])?.first?["line"] as? Int == 4)

            // What stops a delivery: the address, or its domain.
            #expect(try await harness.panel.stopList.list.blocking("ANNA@example.com", channel: .email, account: harness.account._id)?.reason == "asked by phone")
            #expect(try await harness.panel.stopList.list.blocking("trap@spam.example", channel: .email, account: harness.account._id)?.kind == .domain)
            #expect(try await harness.panel.stopList.list.blocking("+4790000000", channel: .sms, account: harness.account._id) != nil)
            #expect(try await harness.panel.stopList.list.blocking("bob@example.com", channel: .email, account: harness.account._id) == nil)

            let search = try jsonObject(try await client.execute(uri: "/api/v1/stop-list?q=spam", method: .get, headers: auth))
            #expect(search["total"] as? Int == 1)
            let noReason = try await client.execute(uri: "/api/v1/stop-list/address/anna%40example.com", method: .delete, headers: auth)
            #expect(noReason.status == .unprocessableContent)
            #expect(try await client.execute(uri: "/api/v1/stop-list/address/anna%40example.com?reason=wrong%20person", method: .delete, headers: auth).status == .noContent)
            let csv = String(buffer: try await client.execute(uri: "/api/v1/stop-list/export", method: .get, headers: auth).body)
            #expect(csv.hasPrefix("kind,value,reason,source,created_at,created_by\r\n") && csv.contains(#""domain","spam.example","spam trap domain","import""#) && !csv.contains("anna@"))
            // The export reads back as an import (quoted fields, the phone's formula guard dropped).
            let reimported = try jsonObject(try await client.execute(uri: "/api/v1/stop-list/import", method: .post, headers: [.authorization: "Bearer \(token)"],
                                                                    body: ByteBuffer(string: csv)))
            #expect(reimported["added"] as? Int == 0 && reimported["alreadyListed"] as? Int == 2 && (reimported["rejected"] as? [Any])?.isEmpty == true, "\(reimported)")
            let actions = try await harness.auditActions()
            for action in ["stop_list.add", "stop_list.import", "stop_list.remove", "stop_list.export"] { #expect(actions.contains(action), "\(action)") }

            let browser = Browser(client)
            _ = try await browser.logIn("admin@alpha.test", PanelHarness.adminPassword)
            let page = try await browser.get("/stop-list?q=spam")
            #expect(page.body.contains("<code>spam.example</code>") && page.body.contains("id=\"stop-list-total\">1<"))
        }
    }
}

