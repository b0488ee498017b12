import Templates
import Testing

@Suite("SMS segments")
struct SMSSegmentsTests {
    @Test func gsm7Text() {
        let one = SMSSegments(String(repeating: "a", count: 160))
        #expect(one == SMSSegments(String(repeating: "a", count: 160)))
        #expect((one.encoding, one.units, one.parts, one.remaining) == (.gsm7, 160, 1, 0))
        let two = SMSSegments(String(repeating: "a", count: 161))
        #expect((two.parts, two.remaining) == (2, 145))  // 2 × 153 − 161
        let euro = SMSSegments("Price: 10€ [sale]")
        #expect(euro.encoding == .gsm7)
        #expect(euro.units == 17 + 3, "€, [ and ] take two septets each")
        #expect(SMSSegments("Grüße, señor! @ £5").encoding == .gsm7)
    }

    @Test func cyrillicAndEmojiAreUCS2() {
        let ru = SMSSegments("Привет! Ваш код: 1234")
        #expect((ru.encoding, ru.characters, ru.units, ru.parts) == (.ucs2, 21, 21, 1))
        let long = SMSSegments(String(repeating: "я", count: 71))
        #expect((long.parts, long.remaining) == (2, 63))  // 2 × 67 − 71
        let emoji = SMSSegments("Hi 🎉")
        #expect((emoji.encoding, emoji.characters, emoji.units) == (.ucs2, 4, 5))
        #expect(SMSSegments(String(repeating: "я", count: 70)).parts == 1)
        #expect(SMSSegments(String(repeating: "я", count: 135)).parts == 3)
    }

    @Test func emptyText() {
        let empty = SMSSegments("")
        #expect((empty.encoding, empty.units, empty.parts, empty.remaining) == (.gsm7, 0, 1, 160))
    }
}
