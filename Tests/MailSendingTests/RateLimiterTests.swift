@testable import MailSending
import Testing

@Suite("Rates per source IP")
struct RateLimiterTests {
    @Test("a per-minute limit holds over any sliding minute")
    func perMinute() {
        var limiter = RateLimiter(perMinute: 2, perHour: nil)
        #expect(limiter.take(at: 1000.0) == nil)
        #expect(limiter.take(at: 1010.5) == nil)
        // The third within the minute waits until the first is a minute old.
        #expect(limiter.take(at: 1020.0) == 40)
        #expect(limiter.take(at: 1060.0) == nil)
        #expect(limiter.take(at: 1061.0) != nil, "the second and the fourth are within a minute")
    }

    @Test("a per-hour limit holds beside the per-minute one")
    func perHour() {
        var limiter = RateLimiter(perMinute: 100, perHour: 3)
        for second in [0.0, 100, 200] { #expect(limiter.take(at: second) == nil) }
        #expect(limiter.take(at: 300) == 3300, "the fourth waits until the first is an hour old")
        #expect(limiter.take(at: 3600) == nil)
    }

    @Test("no limits, no waiting")
    func unlimited() {
        var limiter = RateLimiter(perMinute: nil, perHour: nil)
        for _ in 0..<1000 { #expect(limiter.take(at: 5) == nil) }
    }
}
