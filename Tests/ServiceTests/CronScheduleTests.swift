import Foundation
import ServiceSupport
import Testing

@Suite("Cron-like schedules")
struct CronScheduleTests {
    let moscow = TimeZone(identifier: "Europe/Moscow")!
    let berlin = TimeZone(identifier: "Europe/Berlin")!

    func at(_ text: String) -> Date { try! Date(text, strategy: .iso8601) }

    @Test func weekdaysAtNineInTheAccountsZone() throws {
        let schedule = try CronSchedule("0 9 * * MON-FRI")
        // Friday 2026-11-27 10:00 Moscow (07:00 UTC): next is Monday 09:00 Moscow.
        #expect(schedule.next(after: at("2026-11-27T07:00:00Z"), in: moscow) == at("2026-11-30T06:00:00Z"))
        // Strictly after: at 09:00 exactly, the next day's.
        #expect(schedule.next(after: at("2026-11-30T06:00:00Z"), in: moscow) == at("2026-12-01T06:00:00Z"))
    }

    @Test func stepsListsRangesAndShortcuts() throws {
        #expect(try CronSchedule("*/15 * * * *").next(after: at("2026-11-29T10:07:30Z"), in: .gmt) == at("2026-11-29T10:15:00Z"))
        #expect(try CronSchedule("5,35 8-10/2 * * *").next(after: at("2026-11-29T08:40:00Z"), in: .gmt) == at("2026-11-29T10:05:00Z"))
        #expect(try CronSchedule("@monthly").next(after: at("2026-11-29T10:00:00Z"), in: .gmt) == at("2026-12-01T00:00:00Z"))
        #expect(try CronSchedule("0 0 1 JAN *").next(after: at("2026-11-29T10:00:00Z"), in: .gmt) == at("2027-01-01T00:00:00Z"))
        #expect(try CronSchedule("0 12 * * 7").next(after: at("2026-11-29T13:00:00Z"), in: .gmt) == at("2026-12-06T12:00:00Z"), "7 is Sunday too")
    }

    @Test func dayOfMonthOrDayOfWeekWhenBothAreGiven() throws {
        // The 1st of the month or any Monday, as cron reads it.
        let schedule = try CronSchedule("0 6 1 * MON")
        #expect(schedule.next(after: at("2026-11-25T12:00:00Z"), in: .gmt) == at("2026-11-30T06:00:00Z"))
        #expect(schedule.next(after: at("2026-11-30T12:00:00Z"), in: .gmt) == at("2026-12-01T06:00:00Z"))
    }

    @Test func theLocalTimeHoldsAcrossAClockChange() throws {
        let schedule = try CronSchedule("30 8 * * *")
        // Berlin leaves summer time on 2026-10-25: 08:30 local is 06:30 UTC before and 07:30 UTC after.
        #expect(schedule.next(after: at("2026-10-24T07:00:00Z"), in: berlin) == at("2026-10-25T07:30:00Z"))
        #expect(schedule.next(after: at("2026-10-23T07:00:00Z"), in: berlin) == at("2026-10-24T06:30:00Z"))
        // 02:30 does not exist on 2026-03-29 in Berlin: that day is skipped.
        #expect(try CronSchedule("30 2 * * *").next(after: at("2026-03-28T12:00:00Z"), in: berlin) == at("2026-03-30T00:30:00Z"))
    }

    @Test func problemsNameTheField() throws {
        func problem(_ expression: String) -> CronSchedule.Problem? {
            do {
                _ = try CronSchedule(expression)
                return nil
            } catch {
                return error
            }
        }
        #expect(problem("0 9 * *")?.field == "expression")
        #expect(problem("60 * * * *")?.field == "minute")
        #expect(problem("0 25 * * *")?.field == "hour")
        #expect(problem("0 0 * FOO *").map { $0.field == "month" && $0.message.contains("JAN") } == true)
        #expect(problem("0 0 * * 5-1").map { $0.field == "day of week" && $0.message.contains("backwards") } == true)
        #expect(problem("*/0 * * * *")?.field == "minute")
        #expect(problem("0 9 * * MON-FRI") == nil)
        #expect(try CronSchedule("0 0 31 2 *").next(after: at("2026-01-01T00:00:00Z"), in: .gmt) == nil, "February never has a 31st")
    }
}
