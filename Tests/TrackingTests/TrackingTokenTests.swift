import Foundation
import Testing
import Tracking

@Suite struct TrackingTokenTests {
    let signer = TrackingSigner(secret: "a-test-secret-that-is-long-enough-0123456789")
    static let ids = ("0123456789abcdef01234567", "89abcdef0123456789abcdef", "aaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbb")

    @Test func everyKindRoundTripsAndStaysShort() throws {
        let (account, database, message, profile) = Self.ids
        let tokens = [
            TrackingToken(kind: .click, accountId: account, databaseId: database, messageId: message, profileId: profile, linkIndex: 3, url: "https://shop.example/p?id=1&ref=mail"),
            TrackingToken(kind: .open, accountId: account, databaseId: database, messageId: message, profileId: profile),
            TrackingToken(kind: .unsubscribe, accountId: account, databaseId: database, messageId: message, profileId: profile, channel: "email", address: "anna@example.com", resource: "news"),
            TrackingToken(kind: .bounce, accountId: account, databaseId: "not-an-object-id", messageId: message, profileId: profile, channel: "email", address: "Анна@example.com"),
        ]
        for token in tokens {
            let text = signer.encode(token)
            #expect(text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }, "URL-safe")
            #expect(try signer.decode(text) == token)
        }
        #expect(signer.encode(tokens[1]).count < 100)
    }

    @Test func aChangedTokenIsRefused() throws {
        let (account, database, message, profile) = Self.ids
        let text = signer.encode(TrackingToken(kind: .click, accountId: account, databaseId: database, messageId: message, profileId: profile, url: "https://shop.example/"))
        // Every single-character change anywhere in the token is caught.
        for index in text.indices {
            var changed = text
            changed.replaceSubrange(index...index, with: text[index] == "A" ? "B" : "A")
            #expect(throws: TrackingSigner.Refusal.self) { try signer.decode(changed) }
        }
        // A token made with another secret, garbage, and the empty string.
        let other = TrackingSigner(secret: "another-secret-that-is-also-long-enough-000")
        #expect(throws: TrackingSigner.Refusal.self) { try signer.decode(other.encode(TrackingToken(kind: .open, accountId: account, databaseId: database, messageId: message, profileId: profile))) }
        #expect(throws: TrackingSigner.Refusal.self) { try signer.decode("%%%") }
        #expect(throws: TrackingSigner.Refusal.self) { try signer.decode("") }
    }

    @Test func anOldSecretStillOpensItsTokensAfterANewOneSigns() throws {
        let (account, database, message, profile) = Self.ids
        let old = TrackingSigner(secrets: [1: "the-first-secret-long-enough-for-the-signer"], current: 1)
        let token = TrackingToken(kind: .open, accountId: account, databaseId: database, messageId: message, profileId: profile)
        let rotated = TrackingSigner(secrets: [1: "the-first-secret-long-enough-for-the-signer", 2: "the-second-secret-long-enough-for-the-signer"], current: 2)
        #expect(try rotated.decode(old.encode(token)) == token)
        #expect(try rotated.decode(rotated.encode(token)) == token)
    }

    @Test func machineOpensAreToldFromPeople() {
        #expect(OpenClassifier.classify(userAgent: "Mozilla/5.0", address: "17.58.101.12") == .applePrivacyProxy)
        #expect(OpenClassifier.classify(userAgent: "Mozilla/5.0", address: "93.184.216.34") == .human)
        #expect(OpenClassifier.classify(userAgent: "Mozilla/5.0 (compatible; Barracuda Sentinel)", address: "1.2.3.4") == .scanner)
        #expect(OpenClassifier.classify(userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
                                        address: "93.184.216.34", secondsSinceSent: 1) == .scanner)
        #expect(OpenClassifier.classify(userAgent: "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", address: "66.249.84.1") == .human)
        #expect(OpenClassifier.classify(userAgent: "", address: "1.2.3.4") == .scanner)
    }
}
