/// An account's rules for passwords and logins. Stored with the account and edited on the
/// panel's security settings page.
public struct PasswordPolicy: Sendable, Codable, Equatable {
    /// Fewest characters.
    public var minimumLength: Int
    public var requiresLowercase: Bool
    public var requiresUppercase: Bool
    public var requiresDigit: Bool
    public var requiresSymbol: Bool
    /// A new password may not be one of the user's last this many (0 allows reuse).
    public var historyCount: Int
    /// Days after which a password must be changed (0: never).
    public var maximumAgeDays: Int
    /// Failed logins in a row that lock the user out (0: never).
    public var lockoutAttempts: Int
    /// How long a lockout lasts.
    public var lockoutMinutes: Int

    public init(minimumLength: Int = 10, requiresLowercase: Bool = true, requiresUppercase: Bool = true, requiresDigit: Bool = true,
                requiresSymbol: Bool = false, historyCount: Int = 5, maximumAgeDays: Int = 0, lockoutAttempts: Int = 5, lockoutMinutes: Int = 15)
    {
        self.minimumLength = minimumLength
        self.requiresLowercase = requiresLowercase
        self.requiresUppercase = requiresUppercase
        self.requiresDigit = requiresDigit
        self.requiresSymbol = requiresSymbol
        self.historyCount = historyCount
        self.maximumAgeDays = maximumAgeDays
        self.lockoutAttempts = lockoutAttempts
        self.lockoutMinutes = lockoutMinutes
    }

    /// A rule a password breaks. The panel and the API turn it into a sentence in the user's language.
    public enum Violation: Sendable, Equatable {
        case tooShort(minimum: Int)
        case missingLowercase, missingUppercase, missingDigit, missingSymbol
        case containsLogin
        case recentlyUsed(count: Int)

        /// A stable name, used as the catalog key and the API's error code detail.
        public var key: String {
            switch self {
            case .tooShort: "too_short"
            case .missingLowercase: "missing_lowercase"
            case .missingUppercase: "missing_uppercase"
            case .missingDigit: "missing_digit"
            case .missingSymbol: "missing_symbol"
            case .containsLogin: "contains_login"
            case .recentlyUsed: "recently_used"
            }
        }

        /// The number the sentence mentions, if any.
        public var number: Int? {
            switch self {
            case .tooShort(let minimum): minimum
            case .recentlyUsed(let count): count
            default: nil
            }
        }
    }

    /// The rules `password` breaks, without the history check (which needs the stored hashes).
    public func violations(of password: String, login: String) -> [Violation] {
        var found: [Violation] = []
        if password.count < minimumLength { found.append(.tooShort(minimum: minimumLength)) }
        if requiresLowercase, !password.contains(where: \.isLowercase) { found.append(.missingLowercase) }
        if requiresUppercase, !password.contains(where: \.isUppercase) { found.append(.missingUppercase) }
        if requiresDigit, !password.contains(where: \.isNumber) { found.append(.missingDigit) }
        if requiresSymbol, !password.contains(where: { !$0.isLetter && !$0.isNumber && !$0.isWhitespace }) { found.append(.missingSymbol) }
        let name = login.split(separator: "@").first.map(String.init) ?? login
        if name.count >= 3, password.lowercased().contains(name.lowercased()) { found.append(.containsLogin) }
        return found
    }

    /// Problems with the policy itself, as (field, message) for the settings form and the API.
    public func validationErrors() -> [(field: String, message: String)] {
        var errors: [(String, String)] = []
        if !(6...128).contains(minimumLength) { errors.append(("minimumLength", "use 6 to 128 characters")) }
        if !(0...24).contains(historyCount) { errors.append(("historyCount", "use 0 to 24 passwords")) }
        if !(0...3650).contains(maximumAgeDays) { errors.append(("maximumAgeDays", "use 0 (never) to 3650 days")) }
        if !(0...100).contains(lockoutAttempts) { errors.append(("lockoutAttempts", "use 0 (never) to 100 attempts")) }
        if !(1...1440).contains(lockoutMinutes) { errors.append(("lockoutMinutes", "use 1 to 1440 minutes")) }
        return errors
    }
}
