import BSON
import Foundation
import LDAP
import Logging
import Mongo
import Security

/// Logs users in and out: passwords (bcrypt) or the account's LDAP directory, lockout after
/// repeated failures, forced password changes, the TOTP second factor, panel sessions, and API
/// tokens. Every outcome is audited.
public struct Authenticator: Sendable {
    let store: SecurityStore
    let hasher: PasswordHasher
    let audit: AuditLog
    let resolver: PermissionResolver
    /// Longest a session lives however active it is.
    let sessionMaximumAge: TimeInterval
    let logger: Logger

    public init(store: SecurityStore, hasher: PasswordHasher, audit: AuditLog, sessionMaximumAge: TimeInterval, logger: Logger) {
        self.store = store
        self.hasher = hasher
        self.audit = audit
        resolver = PermissionResolver(store: store)
        self.sessionMaximumAge = sessionMaximumAge
        self.logger = logger
    }

    public enum LoginResult: Sendable {
        /// Logged in; `secret` goes into the session cookie.
        case loggedIn(secret: String, session: PanelSession)
        case invalidCredentials
        case lockedOut(until: Date)
        case disabled
        case directoryUnavailable(String)
    }

    public func logIn(login rawLogin: String, password: String, address: String, userAgent: String) async throws -> LoginResult {
        let login = rawLogin.trimmingCharacters(in: .whitespaces).lowercased()
        guard !login.isEmpty, !password.isEmpty else { return .invalidCredentials }
        let now = Date()
        guard var user = try await store.users.findOne(["login": .string(login)]) else {
            return try await logInFirstTimeFromDirectory(login: login, password: password, address: address, userAgent: userAgent)
        }
        guard let account = try await store.accounts.findOne(["_id": .string(user.accountId)]) else { return .invalidCredentials }
        let actor = Actor(accountId: account._id, userId: user._id, login: user.login, via: "panel", address: address)
        guard user.active else {
            try await audit.record(actor, "login.refused", kind: "user", id: user._id, name: user.login,
                                   changes: [.init(field: "reason", before: nil, after: "disabled")])
            return .disabled
        }
        if let until = user.lockedUntil, until > now {
            try await audit.record(actor, "login.refused", kind: "user", id: user._id, name: user.login,
                                   changes: [.init(field: "reason", before: nil, after: "locked")])
            return .lockedOut(until: until)
        }
        let verified: Bool
        switch user.source {
        case .local:
            verified = try await hasher.verify(password, against: user.passwordHash ?? "")
        case .ldap:
            guard let ldap = account.ldap, ldap.enabled else { verified = false; break }
            do {
                let entry = try await LDAPDirectory(settings: ldap.settings).authenticate(username: Self.localPart(login), password: password)
                user.groupIds = Self.mappedGroups(entry, ldap: ldap, keeping: user.groupIds)
                user.ldapDN = entry.dn
                verified = true
            } catch let error as LDAPError where error.isInvalidCredentials {
                verified = false
            } catch {
                logger.warning("LDAP login failed", metadata: ["login": "\(login)", "error": "\(error)"])
                return .directoryUnavailable("\(error)")
            }
        }
        guard verified else {
            return try await recordFailure(user: user, account: account, actor: actor, now: now)
        }
        var stage = PanelSession.Stage.active
        if user.source == .local {
            let policy = account.passwordPolicy
            let expired = policy.maximumAgeDays > 0 && (user.passwordChangedAt ?? .distantPast) < now.addingTimeInterval(-Double(policy.maximumAgeDays) * 86400)
            if user.mustChangePassword || expired { stage = .mustChangePassword }
        }
        if stage == .active, user.totpEnabled { stage = .needsSecondFactor }
        _ = try await store.users.updateOne(filter: ["_id": .string(user._id)], update: [
            "$set": ["failedLogins": 0, "groupIds": .array(user.groupIds.map { .string($0) }),
                     "ldapDN": user.ldapDN.map { .string($0) } ?? .null],
            "$currentDate": ["lastLoginAt": true],
            "$unset": ["lockedUntil": ""],
        ])
        try await audit.record(actor, "login.success", kind: "user", id: user._id, name: user.login,
                               changes: stage == .active ? [] : [.init(field: "next", before: nil, after: stage.rawValue)])
        let (secret, session) = try await createSession(for: user, stage: stage, address: address, userAgent: userAgent)
        return .loggedIn(secret: secret, session: session)
    }

    private func recordFailure(user: User, account: Account, actor: Actor, now: Date) async throws -> LoginResult {
        let policy = account.passwordPolicy
        let failures = user.failedLogins + 1
        if policy.lockoutAttempts > 0, failures >= policy.lockoutAttempts {
            let until = now.addingTimeInterval(Double(policy.lockoutMinutes) * 60)
            // Replaced whole, guarded by the failure count read: a concurrent failure makes this a no-op
            // instead of a lost update. (A top-level date in `$set` is also what nx-27017 stores as text.)
            var locked = user
            locked.failedLogins = 0
            locked.lockedUntil = until
            _ = try await store.users.replaceOne(filter: ["_id": .string(user._id), "failedLogins": .int64(Int64(user.failedLogins))], replacement: locked)
            try await audit.record(actor, "login.failure", kind: "user", id: user._id, name: user.login,
                                   changes: [.init(field: "failedLogins", before: String(user.failedLogins), after: String(failures))])
            try await audit.record(actor, "user.lock", kind: "user", id: user._id, name: user.login,
                                   changes: [.init(field: "lockedUntil", before: nil, after: ISO8601DateFormatter().string(from: until))])
            return .lockedOut(until: until)
        }
        _ = try await store.users.updateOne(filter: ["_id": .string(user._id)], update: ["$inc": ["failedLogins": 1]])
        try await audit.record(actor, "login.failure", kind: "user", id: user._id, name: user.login,
                               changes: [.init(field: "failedLogins", before: String(user.failedLogins), after: String(failures))])
        return .invalidCredentials
    }

    /// A login Herald does not know yet, `name@domain`, where an account's directory serves
    /// `domain`: bind, then create the user with the groups the directory maps to.
    private func logInFirstTimeFromDirectory(login: String, password: String, address: String, userAgent: String) async throws -> LoginResult {
        guard let at = login.lastIndex(of: "@") else { return .invalidCredentials }
        let domain = String(login[login.index(after: at)...])
        guard let account = try await store.accounts.findOne(["ldap.enabled": true, "ldap.loginDomain": .string(domain)]),
              let ldap = account.ldap
        else { return .invalidCredentials }
        let entry: LDAPDirectory.Account
        do {
            entry = try await LDAPDirectory(settings: ldap.settings).authenticate(username: Self.localPart(login), password: password)
        } catch let error as LDAPError where error.isInvalidCredentials {
            try await audit.record(Actor(accountId: account._id, userId: nil, login: login, via: "panel", address: address), "login.failure",
                                   kind: "user", name: login, changes: [.init(field: "source", before: nil, after: "ldap")])
            return .invalidCredentials
        } catch {
            logger.warning("LDAP login failed", metadata: ["login": "\(login)", "error": "\(error)"])
            return .directoryUnavailable("\(error)")
        }
        var user = User(accountId: account._id, login: login, name: entry.displayName ?? login, email: entry.email ?? login, source: .ldap)
        user.ldapDN = entry.dn
        user.groupIds = Self.mappedGroups(entry, ldap: ldap, keeping: [])
        user.lastLoginAt = Date()
        try await store.users.insertOne(user)
        let actor = Actor(accountId: account._id, userId: user._id, login: login, via: "panel", address: address)
        try await audit.record(actor, "user.create", kind: "user", id: user._id, name: login, changes: [
            .init(field: "source", before: nil, after: "ldap"), .init(field: "ldapDN", before: nil, after: entry.dn),
            .init(field: "groups", before: nil, after: user.groupIds.joined(separator: ", ")),
        ])
        try await audit.record(actor, "login.success", kind: "user", id: user._id, name: login)
        let (secret, session) = try await createSession(for: user, stage: .active, address: address, userAgent: userAgent)
        return .loggedIn(secret: secret, session: session)
    }

    static func localPart(_ login: String) -> String {
        guard let at = login.lastIndex(of: "@") else { return login }
        return String(login[..<at])
    }

    /// The Herald groups the directory's groups map to. Mapped groups the directory no longer
    /// lists are dropped; groups given in Herald by hand stay.
    static func mappedGroups(_ entry: LDAPDirectory.Account, ldap: LDAPConfiguration, keeping current: [String]) -> [String] {
        let mapped = Set(ldap.groupMappings.map(\.groupId))
        let memberOf = Set(entry.groupDNs.map { $0.lowercased() })
        var result = current.filter { !mapped.contains($0) }
        for mapping in ldap.groupMappings where memberOf.contains(mapping.ldapGroupDN.lowercased()) && !result.contains(mapping.groupId) {
            result.append(mapping.groupId)
        }
        return result
    }

    // MARK: Second factor

    /// Checks the TOTP code of a session waiting for it; on success the session becomes active.
    public func completeSecondFactor(session: PanelSession, code: String, address: String) async throws -> Bool {
        guard session.stage == .needsSecondFactor,
              let user = try await store.users.findOne(["_id": .string(session.userId)]),
              let secret = user.totpSecret.flatMap(Base32.decode)
        else { return false }
        let actor = Actor(accountId: user.accountId, userId: user._id, login: user.login, via: "panel", address: address)
        guard let step = TimeBasedOneTimePassword(secret: secret).verify(code, at: Date()), Int64(step) > (user.totpLastStep ?? -1) else {
            try await audit.record(actor, "login.second_factor_failure", kind: "user", id: user._id, name: user.login)
            return false
        }
        _ = try await store.users.updateOne(filter: ["_id": .string(user._id)], update: ["$set": ["totpLastStep": .int64(Int64(step))]])
        _ = try await store.sessions.updateOne(filter: ["_id": .string(session._id)], update: ["$set": ["stage": "active"]])
        try await audit.record(actor, "login.second_factor", kind: "user", id: user._id, name: user.login)
        return true
    }

    // MARK: Sessions

    func createSession(for user: User, stage: PanelSession.Stage, address: String, userAgent: String) async throws -> (String, PanelSession) {
        let secret = SecretToken.generate()
        let now = Date()
        let session = PanelSession(_id: SecretToken.digest(secret), userId: user._id, accountId: user.accountId, stage: stage,
                                   csrfToken: SecretToken.generate(bytes: 24), createdAt: now, lastSeenAt: now,
                                   address: address, userAgent: String(userAgent.prefix(300)))
        try await store.sessions.insertOne(session)
        return (secret, session)
    }

    /// The identity behind a session cookie, or `nil` when the session is unknown, idle too long,
    /// too old, or its user is disabled. A live session's last-seen time is moved on.
    public func identity(sessionSecret secret: String, address: String) async throws -> Identity? {
        guard let session = try await store.sessions.findOne(["_id": .string(SecretToken.digest(secret))]) else { return nil }
        guard let user = try await store.users.findOne(["_id": .string(session.userId)]), user.active,
              let account = try await store.accounts.findOne(["_id": .string(session.accountId)])
        else {
            _ = try await store.sessions.deleteOne(["_id": .string(session._id)])
            return nil
        }
        let now = Date()
        let idle = now.timeIntervalSince(session.lastSeenAt) > Double(account.sessionIdleMinutes) * 60
        if idle || now.timeIntervalSince(session.createdAt) > sessionMaximumAge {
            _ = try await store.sessions.deleteOne(["_id": .string(session._id)])
            return nil
        }
        if now.timeIntervalSince(session.lastSeenAt) > 30 {
            _ = try await store.sessions.updateOne(filter: ["_id": .string(session._id)], update: ["$currentDate": ["lastSeenAt": true]])
        }
        let permissions = session.stage == .active ? try await resolver.permissions(of: user) : []
        return Identity(user: user, account: account, permissions: permissions, credential: .session(session), address: address)
    }

    public func logOut(_ identity: Identity) async throws {
        guard let session = identity.session else { return }
        _ = try await store.sessions.deleteOne(["_id": .string(session._id)])
        try await audit.record(identity.actor, "logout", kind: "user", id: identity.user._id, name: identity.user.login)
    }

    /// Ends every session of a user (after a password change, a lockout by an administrator, or
    /// "log out everywhere"); returns how many ended.
    @discardableResult
    public func endSessions(of userId: String, except keep: String? = nil) async throws -> Int {
        var filter: BSONDocument = ["userId": .string(userId)]
        if let keep { filter.append("_id", ["$ne": .string(keep)]) }
        return try await store.sessions.deleteMany(filter)
    }

    // MARK: API tokens

    /// The identity behind a bearer token: its user's permissions narrowed to its scopes.
    public func identity(bearer secret: String, address: String) async throws -> Identity? {
        guard let token = try await store.tokens.findOne(["digest": .string(SecretToken.digest(secret))]), token.revokedAt == nil else { return nil }
        let now = Date()
        if let expires = token.expiresAt, expires <= now { return nil }
        guard let user = try await store.users.findOne(["_id": .string(token.userId), "accountId": .string(token.accountId)]), user.active,
              let account = try await store.accounts.findOne(["_id": .string(token.accountId)])
        else { return nil }
        if token.lastUsedAt.map({ now.timeIntervalSince($0) > 60 }) ?? true {
            _ = try await store.tokens.updateOne(filter: ["_id": .string(token._id)], update: ["$currentDate": ["lastUsedAt": true]])
        }
        let permissions = try await resolver.permissions(of: user).intersection(token.scopes)
        return Identity(user: user, account: account, permissions: permissions, credential: .token(token), address: address)
    }
}
