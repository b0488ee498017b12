import Foundation
import Testing
import Tracking

@Suite struct TrackedMessageTests {
    let signer = TrackingSigner(secret: "tracked-message-secret-long-enough-0123456789")
    let recipient = TrackedMessage.Recipient(accountId: "0123456789abcdef01234567", databaseId: "89abcdef0123456789abcdef", messageId: "cccccccccccccccccccccccc",
                                             profileId: "dddddddddddddddddddddddd", address: "anna@example.com", resource: "news")

    @Test func webLinksBecomeSignedClicksThatLeadBackAndEverythingElseStays() throws {
        let tracked = TrackedMessage(signer: signer, base: "https://track.example/", bounceDomain: "bounces.herald.example")
        let html = """
            <html><body><a href="https://shop.example/skis?a=1&amp;b=2">Skis</a> <a href='http://shop.example/sale'>Sale</a>
            <a href="mailto:care@shop.example">Write</a> <a href="#top">Top</a> <a href="tel:+4790000000">Call</a>
            <a data-herald-track="false" href="https://shop.example/private">Private</a></body></html>
            """
        let out = tracked.html(html, for: recipient)
        let links = out.components(separatedBy: "https://track.example/c/").dropFirst().map { String($0.prefix { $0 != "\"" && $0 != "'" }) }
        #expect(links.count == 2)
        let first = try signer.decode(links[0]), second = try signer.decode(links[1])
        #expect(first.url == "https://shop.example/skis?a=1&b=2" && first.linkIndex == 0 && first.profileId == recipient.profileId)
        #expect(second.url == "http://shop.example/sale" && second.linkIndex == 1)
        for kept in ["mailto:care@shop.example", "#top", "tel:+4790000000", "https://shop.example/private"] { #expect(out.contains("href=\"\(kept)\""), "\(kept)") }
        // The open pixel sits before </body>, and opens the recipient's token.
        let pixel = try #require(out.range(of: "https://track.example/o/"))
        let token = String(out[pixel.upperBound...].prefix { $0 != "." })
        #expect(try signer.decode(token).kind == .open && out.hasSuffix("</body></html>"))
    }

    @Test func headersCarryTheUnsubscribeLinkAndTheReturnPath() throws {
        let tracked = TrackedMessage(signer: signer, base: "https://track.example", bounceDomain: "bounces.herald.example")
        let unsubscribe = tracked.unsubscribeURL(for: recipient)
        let token = try signer.decode(String(unsubscribe.dropFirst("https://track.example/u/".count)))
        #expect(token.kind == .unsubscribe && token.address == "anna@example.com" && token.resource == "news")
        let path = tracked.returnPath(for: recipient)
        #expect(path.hasPrefix("bounces+") && path.hasSuffix("@bounces.herald.example"))
        let bounce = try signer.decode(String(path.dropFirst(8).prefix { $0 != "@" }))
        #expect(bounce.kind == .bounce && bounce.messageId == recipient.messageId)
        // A local part of up to 64 characters is what RFC 5321 promises; VERP tokens need more, which receivers accept in practice.
        #expect(path.count < 256)
    }
}
