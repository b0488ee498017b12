import Security
import Testing

@Suite struct PasswordTests {
    @Test func policyNamesEveryRuleAPasswordBreaks() {
        let policy = PasswordPolicy(minimumLength: 12, requiresSymbol: true)
        #expect(policy.violations(of: "short", login: "anna") == [.tooShort(minimum: 12), .missingUppercase, .missingDigit, .missingSymbol])
        #expect(policy.violations(of: "Anna-likes-2-ski", login: "anna@example.com") == [.containsLogin])
        #expect(policy.violations(of: "Correct-horse-9", login: "anna").isEmpty)
        let lenient = PasswordPolicy(minimumLength: 6, requiresLowercase: false, requiresUppercase: false, requiresDigit: false)
        #expect(lenient.violations(of: "пароль", login: "x").isEmpty)
    }

    @Test func policyRefusesSettingsOutOfRange() {
        var policy = PasswordPolicy()
        #expect(policy.validationErrors().isEmpty)
        policy.minimumLength = 3
        policy.lockoutMinutes = 0
        #expect(policy.validationErrors().map(\.field) == ["minimumLength", "lockoutMinutes"])
    }

    @Test func bcryptHashesVerifyOnlyTheirPassword() async throws {
        let hasher = PasswordHasher(cost: 4)
        let hash = try await hasher.hash("Correct-horse-9")
        #expect(hash.hasPrefix("$2b$04$"))
        #expect(try await hasher.verify("Correct-horse-9", against: hash))
        #expect(try await !hasher.verify("correct-horse-9", against: hash))
        #expect(try await !hasher.verify("Correct-horse-9", against: "plain"))
        #expect(try await hasher.hash("Correct-horse-9") != hash)
    }

    @Test func permissionsParseOnlyWhatApplies() {
        #expect(Permission("campaigns:send") == Permission(.campaigns, .send))
        #expect(Permission("reports:delete") == nil)
        #expect(Permission("nothing:view") == nil)
        #expect(Permission.all.count == Set(Permission.all).count)
        #expect(BuiltInRole.administrator.permissions == Set(Permission.all))
        #expect(BuiltInRole.analyst.permissions.allSatisfy { $0.action == .view || $0 == Permission(.reports, .export) })
        #expect(!BuiltInRole.marketer.permissions.contains(Permission(.profiles, .export)))
        #expect(!BuiltInRole.crmManager.permissions.contains(Permission(.users, .view)))
    }

    @Test func secretTokensAreRandomAndStoredAsDigests() {
        let a = SecretToken.generate(prefix: "hrld_"), b = SecretToken.generate(prefix: "hrld_")
        #expect(a != b && a.hasPrefix("hrld_") && a.count == 5 + 43)
        #expect(SecretToken.digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SecretToken.matches(a, a) && !SecretToken.matches(a, b))
    }
}
