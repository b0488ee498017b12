import Foundation
import HeraldTesting
import MIME
import Testing

@Suite("Mail messages")
struct MailMessageTests {
    let message = MailMessage(
        from: MailAddress("news@shop.example", name: "Магазин «Весна»"),
        to: [MailAddress("anna@example.org", name: "Anna \"Ann\" Smith")],
        subject: "Весенняя коллекция: скидка 20% только до 31 марта — не пропустите самое интересное!",
        text: "Здравствуйте, Анна!\nСкидка 20% = ваш подарок.   \nhttps://shop.example/p/1",
        html: "<p>Здравствуйте, <b>Анна</b>!</p>" + String(repeating: "<p>Весенняя коллекция уже в магазине. </p>", count: 5),
        replyTo: MailAddress("care@shop.example"),
        date: Date(timeIntervalSince1970: 1_800_000_000),
        messageID: "m7.c42@herald.example.com",
        unsubscribeURL: "https://t.example/u/abc",
        unsubscribeMailto: "unsubscribe+abc@t.example",
        headers: [("X-Campaign", "c42")]
    )

    var text: String { String(decoding: message.rendered(boundary: "BOUNDARY"), as: UTF8.self) }

    @Test func linesAreCRLFAndShortEnough() {
        let raw = text
        #expect(!raw.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "every line ends with CRLF")
        for line in raw.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 78, "too long: \(line)")
            let ascii = line.unicodeScalars.allSatisfy { $0.isASCII }
            #expect(ascii, "not ASCII: \(line)")
        }
        #expect(raw.contains("Date: Fri, 15 Jan 2027 08:00:00 +0000\r\n"))
        #expect(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"))
        #expect(raw.contains("Message-ID: <m7.c42@herald.example.com>\r\n"))
    }

    /// Python's email package, an independent MIME implementation, reads back what we wrote.
    @Test func anIndependentParserReadsItBack() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("herald-\(UUID().uuidString).eml")
        try Data(message.rendered()).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = """
        import email, email.policy, json, sys
        m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)
        print(json.dumps({
          'from': str(m['From']), 'to': str(m['To']), 'reply_to': str(m['Reply-To']), 'subject': str(m['Subject']),
          'unsubscribe': str(m['List-Unsubscribe']), 'campaign': str(m['X-Campaign']), 'type': m.get_content_type(),
          'text': m.get_body(('plain',)).get_content(), 'html': m.get_body(('html',)).get_content(),
          'defects': [str(d) for d in m.defects] + [str(d) for p in m.walk() for d in p.defects],
        }))
        """
        let python = try ChildProcess(executable: "/usr/bin/python3", arguments: ["-c", script, file.path])
        let status = python.waitForExit()
        #expect(status == 0, "\(python.output)")
        let parsed = try JSONSerialization.jsonObject(with: Data(python.output.utf8)) as? [String: Any] ?? [:]
        #expect(parsed["from"] as? String == "Магазин «Весна» <news@shop.example>")
        #expect(parsed["to"] as? String == "\"Anna \\\"Ann\\\" Smith\" <anna@example.org>")
        #expect(parsed["reply_to"] as? String == "care@shop.example")
        #expect(parsed["subject"] as? String == message.subject)
        #expect(parsed["unsubscribe"] as? String == "<https://t.example/u/abc>, <mailto:unsubscribe+abc@t.example>")
        #expect(parsed["campaign"] as? String == "c42")
        #expect(parsed["type"] as? String == "multipart/alternative")
        // Exactly the text, trailing spaces included (the CRLF before a boundary belongs to the boundary).
        #expect((parsed["text"] as? String)?.replacingOccurrences(of: "\r\n", with: "\n") == message.text!)
        #expect((parsed["html"] as? String)?.replacingOccurrences(of: "\r\n", with: "\n") == message.html!)
        #expect((parsed["defects"] as? [String])?.isEmpty == true, "\(parsed["defects"] ?? "")")
    }
}
