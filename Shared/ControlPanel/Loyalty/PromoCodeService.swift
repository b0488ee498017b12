import BSON
import CustomerData
import Foundation
import Mongo
import Security

/// Promo code pools for the panel and the API: pools made, codes added (pasted or generated),
/// and a code issued to a profile — from its card or the API — atomically, recorded on the
/// profile's timeline (`promo.issued`) and in the audit log.
public struct PromoCodeService: Sendable {
    public let pools: MongoCollection<PromoCodePool>
    public let codes: MongoCollection<PromoCode>
    let customers: CustomerDataService
    let audit: AuditLog

    /// At most this many codes are added or generated in one request.
    public static let batchLimit = 100_000

    public init(customers database: MongoDatabase, customerData: CustomerDataService, audit: AuditLog) {
        pools = database.collection(PromoCodePool.collectionName, of: PromoCodePool.self)
        codes = database.collection(PromoCode.collectionName, of: PromoCode.self)
        customers = customerData
        self.audit = audit
    }

    public func prepare() async throws {
        try await pools.createIndexes([IndexModel(keys: ["accountId": 1, "name": 1], name: "account_name_unique", unique: true)])
        try await codes.createIndexes([
            IndexModel(keys: ["poolId": 1, "profileId": 1], name: "pool_profile"),
            IndexModel(keys: ["accountId": 1, "profileId": 1], name: "account_profile"),
        ])
    }

    public struct PoolSummary: Sendable {
        public var pool: PromoCodePool
        public var total: Int
        public var issued: Int
        public var free: Int { total - issued }
    }

    // MARK: Pools

    public func list(for identity: Identity) async throws -> [PoolSummary] {
        try identity.require(.promoCodes, .view)
        var summaries: [PoolSummary] = []
        for try await pool in pools.find(["accountId": .string(identity.account._id)], options: FindOptions(sort: ["name": 1])) {
            summaries.append(try await summary(of: pool))
        }
        return summaries
    }

    public func summary(of pool: PromoCodePool) async throws -> PoolSummary {
        let total = try await codes.countDocuments(["poolId": .string(pool._id)])
        let free = try await codes.countDocuments(["poolId": .string(pool._id), "profileId": ""])
        return PoolSummary(pool: pool, total: total, issued: total - free)
    }

    public func pool(_ id: String, for identity: Identity) async throws -> PromoCodePool {
        try identity.require(.promoCodes, .view)
        guard let pool = try await pools.findOne(["_id": .string(id), "accountId": .string(identity.account._id)]) else { throw ObjectNotFound("promo_pool", id) }
        return pool
    }

    public func create(name: String, description: String = "", by identity: Identity) async throws -> PromoCodePool {
        try identity.require(.promoCodes, .create)
        let name = name.trimmingCharacters(in: .whitespaces)
        guard (1...200).contains(name.count) else { throw InvalidInput("name", "campaign_invalid", "give the pool a name (at most 200 characters)") }
        if try await pools.findOne(["accountId": .string(identity.account._id), "name": .string(name)]) != nil {
            throw InvalidInput("name", "campaign_invalid", "a pool named '\(name)' exists already")
        }
        let pool = PromoCodePool(accountId: identity.account._id, name: name, description: description, createdBy: identity.user.login)
        try await pools.insertOne(pool)
        try await audit.record(identity.actor, "promo_pool.create", kind: "promo_pool", id: pool._id, name: name)
        return pool
    }

    // MARK: Codes

    public struct Added: Sendable {
        public var added = 0
        /// Codes the pool had already.
        public var present = 0
        public var rejected: [(line: Int, message: String)] = []
    }

    /// Adds the codes in `text`, one a line (blank lines skipped); a bad line is reported by its number and the others are added.
    public func add(_ text: String, to poolId: String, by identity: Identity) async throws -> Added {
        try identity.require(.promoCodes, .import)
        let pool = try await pool(poolId, for: identity)
        var result = Added()
        var wanted: [(line: Int, code: String)] = []
        var seen = Set<String>()
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let code = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if code.isEmpty { continue }
            guard PromoCode.isValid(code) else {
                result.rejected.append((index + 1, "'\(code.prefix(80))' is not a code: use 3 to 64 letters, digits, - and _"))
                continue
            }
            if seen.insert(code).inserted { wanted.append((index + 1, code)) } else { result.present += 1 }
        }
        guard wanted.count <= Self.batchLimit else {
            throw InvalidInput("codes", "campaign_invalid", "at most \(Self.batchLimit) codes at a time; split the list")
        }
        let added = try await insertNew(wanted.map(\.code), into: pool)
        result.added = added
        result.present += wanted.count - added
        try await audit.record(identity.actor, "promo_code.add", kind: "promo_pool", id: pool._id, name: pool.name,
                               changes: [.init(field: "added", before: nil, after: String(added))])
        return result
    }

    /// Generates `count` new random codes (`prefix` then `length` characters without look-alikes: no 0/O, 1/I/L).
    public func generate(_ count: Int, prefix: String = "", length: Int = 8, in poolId: String, by identity: Identity) async throws -> Int {
        try identity.require(.promoCodes, .create)
        let pool = try await pool(poolId, for: identity)
        guard (1...Self.batchLimit).contains(count) else { throw InvalidInput("count", "campaign_invalid", "generate 1 to \(Self.batchLimit) codes") }
        guard (4...32).contains(length) else { throw InvalidInput("length", "campaign_invalid", "codes of 4 to 32 random characters") }
        guard prefix.isEmpty || PromoCode.isValid(prefix + "xxx"), prefix.count <= 32 else {
            throw InvalidInput("prefix", "campaign_invalid", "a prefix of letters, digits, - and _ (at most 32)")
        }
        let alphabet = Array("ABCDEFGHJKMNPQRSTUVWXYZ23456789")
        var made = 0
        for _ in 0..<5 where made < count {
            let batch = (0..<(count - made)).map { _ in prefix + String((0..<length).map { _ in alphabet.randomElement()! }) }
            made += try await insertNew(Array(Set(batch)), into: pool)
        }
        try await audit.record(identity.actor, "promo_code.generate", kind: "promo_pool", id: pool._id, name: pool.name,
                               changes: [.init(field: "generated", before: nil, after: String(made))])
        return made
    }

    /// Inserts the codes the pool does not have yet; how many were inserted.
    private func insertNew(_ candidates: [String], into pool: PromoCodePool) async throws -> Int {
        var inserted = 0
        for start in stride(from: 0, to: candidates.count, by: 5000) {
            let slice = Array(candidates[start..<min(candidates.count, start + 5000)])
            var existing = Set<String>()
            for try await code in codes.find(["_id": ["$in": .array(slice.map { .string(PromoCode.id(pool: pool._id, code: $0)) })]]) { existing.insert(code.code) }
            let new = slice.filter { !existing.contains($0) }.map { PromoCode(accountId: pool.accountId, poolId: pool._id, code: $0) }
            if !new.isEmpty { inserted += try await codes.insertMany(new, ordered: false) }
        }
        return inserted
    }

    /// Issues the pool's next free code to a profile: taken atomically, so no code goes to two
    /// profiles; written to the profile's timeline and the audit log.
    public func issue(from poolId: String, to profileId: String, in databaseId: String, source: String, by identity: Identity) async throws -> PromoCode {
        try identity.require(.promoCodes, .edit)
        let pool = try await pool(poolId, for: identity)
        let (database, profile) = try await customers.profile(profileId, in: databaseId, for: identity, audited: false)
        guard let code = try await codes.findOneAndUpdate(
            filter: ["poolId": .string(pool._id), "accountId": .string(identity.account._id), "profileId": ""],
            update: ["$set": ["profileId": .string(profile._id), "databaseId": .string(database._id)], "$currentDate": ["issuedAt": true]],
            sort: ["addedAt": 1])
        else {
            throw InvalidInput("poolId", "campaign_invalid", "the pool '\(pool.name)' has no free codes left: add or generate more under Promo codes")
        }
        try await customers.profiles.record([ActivityEvent(accountId: identity.account._id, databaseId: database._id, profileId: profile._id, kind: "promo.issued",
                                                           source: source, properties: ["code": .string(code.code), "pool": .string(pool.name), "poolId": .string(pool._id)])])
        try await audit.record(identity.actor, "promo_code.issue", kind: "profile", id: profile._id, name: CustomerDataService.title(of: profile, in: database),
                               changes: [.init(field: "code", before: nil, after: "\(code.code) (\(pool.name))")])
        return code
    }

    /// The codes issued to a profile, newest first.
    public func issued(to profile: Profile, for identity: Identity) async throws -> [PromoCode] {
        guard identity.can(.promoCodes, .view) else { return [] }
        return try await codes.find(["accountId": .string(identity.account._id), "profileId": .string(profile._id)],
                                    options: FindOptions(sort: ["issuedAt": -1], limit: 50)).collect()
    }
}
