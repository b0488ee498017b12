import Foundation

/// One promo code of a pool (`promo_codes`). Its id is the pool's and the code's, so a code is
/// in a pool once. Free while `profileId` is empty; issued to that profile (of `databaseId`) at `issuedAt`.
public struct PromoCode: Codable, Sendable, Equatable {
    public var _id: String
    public var accountId: String
    public var poolId: String
    public var code: String
    public var profileId: String
    public var databaseId: String
    public var issuedAt: Date?
    public var addedAt: Date

    public init(accountId: String, poolId: String, code: String, addedAt: Date = Date()) {
        _id = Self.id(pool: poolId, code: code)
        self.accountId = accountId
        self.poolId = poolId
        self.code = code
        profileId = ""
        databaseId = ""
        issuedAt = nil
        self.addedAt = addedAt
    }

    public static func id(pool: String, code: String) -> String { "\(pool):\(code)" }

    public static let collectionName = "promo_codes"

    /// What a code may be: 3 to 64 letters, digits, `-` and `_`.
    public static func isValid(_ code: String) -> Bool {
        (3...64).contains(code.count) && code.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }
}
