import Audiences
import BSON
import CustomerData
import Foundation
import Testing

@Suite struct RuleCheckerTests {
    @Test func aWrongRuleIsReportedAtTheRuleThatIsWrongAndNeverRun() throws {
        let json = #"""
        {"all": [{"field": "city", "op": "eq", "value": "Oslo"},
                 {"any": [{"field": "shoe_size", "op": "gt", "value": 40}, {"field": "age", "op": "contains", "value": "4"}]},
                 {"not": {"field": "age", "op": "between", "value": [18, "old"]}},
                 {"field": "born", "op": "in_next_days", "value": -3}]}
        """#
        let rule = try JSONDecoder().decode(SegmentRule.self, from: Data(json.utf8))
        guard case .failure(let failure) = RuleChecker.check(rule, in: RuleAgreementTests.database) else {
            Issue.record("a wrong rule passed the check")
            return
        }
        let errors = failure.errors
        #expect(errors.map(\.path) == ["rule.all[1].any[0]", "rule.all[1].any[1]", "rule.all[2].not.value", "rule.all[3].value"])
        #expect(errors[0].message.hasPrefix("the database has no field 'shoe_size'"))
        #expect(errors[1].message.hasPrefix("'contains' does not fit a integer field"))
        #expect(errors[2].message == "'old' is not a whole number")
    }

    @Test func rulesRoundTripThroughTheirJSONForm() throws {
        let rule = SegmentRule.all([.field(key: "city", op: .in, value: .list([.text("Oslo"), .text("Perm")])), .not(.subscription(channel: .email, status: .active, resource: nil))])
        let decoded = try JSONDecoder().decode(SegmentRule.self, from: JSONEncoder().encode(rule))
        #expect(decoded == rule)
    }

    @Test func birthdaysInTheNextDaysWrapAroundTheYear() throws {
        let checked = try RuleChecker.check(.field(key: "born", op: .inNextDays, value: .number(3)), in: RuleAgreementTests.database,
                                            now: Date(timeIntervalSince1970: 1_735_430_400)).get()  // 2024-12-29
        #expect(checked == .pattern(path: "born", "-(12-29|12-30|12-31|01-01)$", caseInsensitive: false))
    }
}
