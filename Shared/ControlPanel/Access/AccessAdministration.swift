import BSON
import Foundation
import LDAP
import Mongo
import Security

/// Every change to accounts, users, roles, groups, tokens and security settings, for the panel
/// and the API alike: validated, limited to the caller's account and permissions, and audited
/// with the values before and after.
public struct AccessAdministration: Sendable {
    let store: SecurityStore
    let hasher: PasswordHasher
    let audit: AuditLog
    let resolver: PermissionResolver
    let authenticator: Authenticator

    public init(store: SecurityStore, hasher: PasswordHasher, audit: AuditLog, authenticator: Authenticator) {
        self.store = store
        self.hasher = hasher
        self.audit = audit
        resolver = PermissionResolver(store: store)
        self.authenticator = authenticator
    }

    static let languages = ["en", "ru"]

    // MARK: Accounts

    /// Creates an account with the built-in roles and groups and its first administrator, whose
    /// one-time password is returned (and must be changed at first login).
    public func createAccount(name: String, adminLogin: String, platformAdmin: Bool = false, by actor: Actor?) async throws -> (Account, User, String) {
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 100 else { throw InvalidInput("name", "name_required") }
        try await validateLogin(adminLogin.lowercased())
        let account = Account(name: name)
        try await store.accounts.insertOne(account)
        var adminGroup: String?
        for builtIn in BuiltInRole.allCases {
            let role = Role(accountId: account._id, name: Self.builtInName(builtIn), permissions: Array(builtIn.permissions), builtIn: builtIn)
            try await store.roles.insertOne(role)
            let group = UserGroup(accountId: account._id, name: Self.builtInName(builtIn) + "s", roleIds: [role._id])
            try await store.groups.insertOne(group)
            if builtIn == .administrator { adminGroup = group._id }
        }
        let password = Self.oneTimePassword()
        var admin = User(accountId: account._id, login: adminLogin, name: "Administrator")
        admin.passwordHash = try await hasher.hash(password)
        admin.passwordChangedAt = Date()
        admin.mustChangePassword = true
        admin.groupIds = adminGroup.map { [$0] } ?? []
        admin.platformAdmin = platformAdmin
        try await store.users.insertOne(admin)
        let system = Actor.system(account._id)
        try await audit.record(system, "account.create", kind: "account", id: account._id, name: name,
                               changes: [.init(field: "createdBy", before: nil, after: actor?.login ?? "first run")])
        try await audit.record(system, "user.create", kind: "user", id: admin._id, name: admin.login,
                               changes: [.init(field: "groups", before: nil, after: "Administrators")])
        if let actor, actor.accountId != account._id {
            try await audit.record(actor, "account.create", kind: "account", id: account._id, name: name)
        }
        return (account, admin, password)
    }

    static func builtInName(_ role: BuiltInRole) -> String {
        switch role {
        case .administrator: "Administrator"
        case .crmManager: "CRM manager"
        case .marketer: "Marketer"
        case .analyst: "Analyst"
        }
    }

    /// 16 characters from letters and digits with at least one of each class: satisfies any policy
    /// but `requiresSymbol`, for which a symbol is added.
    static func oneTimePassword() -> String {
        let lower = Array("abcdefghijkmnopqrstuvwxyz"), upper = Array("ABCDEFGHJKLMNPQRSTUVWXYZ"), digits = Array("23456789")
        let all = lower + upper + digits
        var generator = SystemRandomNumberGenerator()
        var characters = [lower.randomElement(using: &generator)!, upper.randomElement(using: &generator)!, digits.randomElement(using: &generator)!]
        while characters.count < 15 { characters.append(all.randomElement(using: &generator)!) }
        characters.shuffle(using: &generator)
        return String(characters) + "!"
    }

    // MARK: Users

    /// What a user form or `POST/PATCH /api/v1/users` gives.
    public struct UserInput: Sendable {
        public var login: String?
        public var name: String?
        public var email: String?
        public var groupIds: [String]?
        public var roleIds: [String]?
        public var language: String?
        public var active: Bool?
        /// Empty on creation: a one-time password is made and must be changed at first login.
        public var password: String?

        public init(login: String? = nil, name: String? = nil, email: String? = nil, groupIds: [String]? = nil, roleIds: [String]? = nil,
                    language: String? = nil, active: Bool? = nil, password: String? = nil)
        {
            self.login = login
            self.name = name
            self.email = email
            self.groupIds = groupIds
            self.roleIds = roleIds
            self.language = language
            self.active = active
            self.password = password
        }
    }

    public func user(_ id: String, for identity: Identity) async throws -> User {
        try identity.require(.users, .view)
        guard let filter = SecurityStore.byId(id, in: identity.account._id), let user = try await store.users.findOne(filter) else {
            throw ObjectNotFound("user", id)
        }
        return user
    }

    public func users(for identity: Identity) async throws -> [User] {
        try identity.require(.users, .view)
        return try await store.users.find(["accountId": .string(identity.account._id)], options: FindOptions(sort: ["login": 1])).collect()
    }

    /// Creates a user; returns the one-time password when none was given.
    public func createUser(_ input: UserInput, by identity: Identity) async throws -> (User, String?) {
        try identity.require(.users, .create)
        let login = (input.login ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        try await validateLogin(login)
        var user = User(accountId: identity.account._id, login: login, name: (input.name ?? "").trimmingCharacters(in: .whitespaces),
                        email: (input.email ?? "").trimmingCharacters(in: .whitespaces))
        if user.name.isEmpty { user.name = login }
        try Self.validateEmail(user.email)
        user.groupIds = try await groupIds(input.groupIds ?? [], in: identity.account._id)
        user.roleIds = try await roleIds(input.roleIds ?? [], in: identity.account._id)
        try await requireGrantable(groups: user.groupIds, roles: user.roleIds, by: identity)
        if let language = input.language, !language.isEmpty {
            guard Self.languages.contains(language) else { throw InvalidInput("language", "unknown_language", Self.languages.joined(separator: ", ")) }
            user.language = language
        }
        var oneTime: String?
        if let password = input.password, !password.isEmpty {
            try check(password, login: login, policy: identity.account.passwordPolicy)
            user.passwordHash = try await hasher.hash(password)
        } else {
            let generated = Self.oneTimePassword()
            user.passwordHash = try await hasher.hash(generated)
            user.mustChangePassword = true
            oneTime = generated
        }
        user.passwordChangedAt = Date()
        do {
            try await store.users.insertOne(user)
        } catch let error as MongoError where error.code == .duplicateKey {
            throw InvalidInput("login", "login_taken", login)
        }
        try await audit.record(identity.actor, "user.create", kind: "user", id: user._id, name: user.login, changes: Self.describe(nil, user))
        return (user, oneTime)
    }

    public func updateUser(_ id: String, _ input: UserInput, by identity: Identity) async throws -> User {
        try identity.require(.users, .edit)
        let before = try await user(id, for: identity)
        var after = before
        if let name = input.name { after.name = name.trimmingCharacters(in: .whitespaces) }
        if let email = input.email { after.email = email.trimmingCharacters(in: .whitespaces); try Self.validateEmail(after.email) }
        if let groups = input.groupIds { after.groupIds = try await groupIds(groups, in: identity.account._id) }
        if let roles = input.roleIds { after.roleIds = try await roleIds(roles, in: identity.account._id) }
        if let language = input.language {
            guard language.isEmpty || Self.languages.contains(language) else { throw InvalidInput("language", "unknown_language", Self.languages.joined(separator: ", ")) }
            after.language = language.isEmpty ? nil : language
        }
        if let active = input.active {
            if !active, before._id == identity.user._id { throw InvalidInput("active", "cannot_disable_self") }
            after.active = active
        }
        if after.groupIds != before.groupIds || after.roleIds != before.roleIds {
            try await requireGrantable(groups: after.groupIds, roles: after.roleIds, by: identity)
        }
        _ = try await store.users.replaceOne(filter: ["_id": .string(before._id), "accountId": .string(identity.account._id)], replacement: after)
        if before.active, !after.active { try await authenticator.endSessions(of: after._id) }
        try await audit.record(identity.actor, "user.update", kind: "user", id: id, name: after.login, changes: Self.describe(before, after))
        return after
    }

    public func deleteUser(_ id: String, by identity: Identity) async throws {
        try identity.require(.users, .delete)
        let user = try await user(id, for: identity)
        guard user._id != identity.user._id else { throw InvalidInput("id", "cannot_delete_self") }
        _ = try await store.users.deleteOne(["_id": .string(user._id), "accountId": .string(identity.account._id)])
        try await authenticator.endSessions(of: user._id)
        _ = try await store.tokens.updateMany(filter: ["userId": .string(user._id), "revokedAt": .null], update: ["$currentDate": ["revokedAt": true]])
        try await audit.record(identity.actor, "user.delete", kind: "user", id: id, name: user.login, changes: Self.describe(user, nil))
    }

    public func unlockUser(_ id: String, by identity: Identity) async throws {
        try identity.require(.users, .edit)
        let user = try await user(id, for: identity)
        _ = try await store.users.updateOne(filter: ["_id": .string(user._id)], update: ["$set": ["failedLogins": 0], "$unset": ["lockedUntil": ""]])
        try await audit.record(identity.actor, "user.unlock", kind: "user", id: id, name: user.login)
    }

    /// Gives a user a new one-time password and ends their sessions; returns the password.
    public func resetPassword(_ id: String, by identity: Identity) async throws -> String {
        try identity.require(.users, .edit)
        let user = try await user(id, for: identity)
        guard user.source == .local else { throw InvalidInput("id", "directory_user_password") }
        let password = Self.oneTimePassword()
        let hash = try await hasher.hash(password)
        try await modifyUser(user._id) {
            $0.passwordHash = hash
            $0.mustChangePassword = true
            $0.passwordChangedAt = Date()
            $0.failedLogins = 0
            $0.lockedUntil = nil
        }
        try await authenticator.endSessions(of: user._id)
        try await audit.record(identity.actor, "user.password_reset", kind: "user", id: id, name: user.login)
        return password
    }

    /// The user's own password change (forced at first login, or voluntary). Other sessions end.
    public func changeOwnPassword(current: String, new: String, confirmation: String, by identity: Identity) async throws {
        let user = identity.user
        guard user.source == .local else { throw InvalidInput("current", "directory_user_password") }
        guard try await hasher.verify(current, against: user.passwordHash ?? "") else { throw InvalidInput("current", "current_password_wrong") }
        guard new == confirmation else { throw InvalidInput("confirmation", "passwords_differ") }
        guard new != current else { throw InvalidInput("new", "password_unchanged") }
        try check(new, login: user.login, policy: identity.account.passwordPolicy)
        let history = Array(([user.passwordHash].compactMap { $0 } + user.passwordHistory).prefix(identity.account.passwordPolicy.historyCount))
        for old in history where try await hasher.verify(new, against: old) {
            throw InvalidInput("new", "password_recently_used", String(identity.account.passwordPolicy.historyCount))
        }
        let hash = try await hasher.hash(new)
        try await modifyUser(user._id) {
            $0.passwordHash = hash
            $0.passwordHistory = history
            $0.mustChangePassword = false
            $0.passwordChangedAt = Date()
        }
        if let session = identity.session {
            let next = user.totpEnabled ? "needs_second_factor" : "active"
            _ = try await store.sessions.updateOne(filter: ["_id": .string(session._id)], update: ["$set": ["stage": .string(next)]])
            try await authenticator.endSessions(of: user._id, except: session._id)
        }
        try await audit.record(identity.actor, "user.password_change", kind: "user", id: user._id, name: user.login)
    }

    func check(_ password: String, login: String, policy: PasswordPolicy) throws {
        if let violation = policy.violations(of: password, login: login).first {
            throw InvalidInput("password", "password_" + violation.key, violation.number.map(String.init) ?? "")
        }
    }

    public func setOwnLanguage(_ language: String, by identity: Identity) async throws {
        guard Self.languages.contains(language) else { throw InvalidInput("language", "unknown_language", Self.languages.joined(separator: ", ")) }
        _ = try await store.users.updateOne(filter: ["_id": .string(identity.user._id)], update: ["$set": ["language": .string(language)]])
        try await audit.record(identity.actor, "user.language", kind: "user", id: identity.user._id, name: identity.user.login,
                               changes: [.init(field: "language", before: identity.user.language, after: language)])
    }

    // MARK: Second factor

    /// Starts TOTP enrolment: a new secret, not yet required until ``confirmSecondFactor`` sees a code from it.
    public func beginSecondFactor(by identity: Identity) async throws -> TimeBasedOneTimePassword {
        let secret = TimeBasedOneTimePassword.generateSecret()
        try await modifyUser(identity.user._id) {
            $0.totpSecret = Base32.encode(secret)
            $0.totpEnabled = false
        }
        return TimeBasedOneTimePassword(secret: secret)
    }

    public func confirmSecondFactor(code: String, by identity: Identity) async throws {
        guard let secret = identity.user.totpSecret.flatMap(Base32.decode),
              let step = TimeBasedOneTimePassword(secret: secret).verify(code, at: Date())
        else { throw InvalidInput("code", "totp_code_wrong") }
        try await modifyUser(identity.user._id) {
            $0.totpEnabled = true
            $0.totpLastStep = Int64(step)
        }
        try await audit.record(identity.actor, "user.second_factor_enable", kind: "user", id: identity.user._id, name: identity.user.login)
    }

    public func disableSecondFactor(by identity: Identity) async throws {
        try await modifyUser(identity.user._id) {
            $0.totpEnabled = false
            $0.totpSecret = nil
        }
        try await audit.record(identity.actor, "user.second_factor_disable", kind: "user", id: identity.user._id, name: identity.user.login)
    }

    // MARK: Roles

    public func roles(for identity: Identity) async throws -> [Role] {
        try identity.require(.users, .view)
        return try await store.roles.find(["accountId": .string(identity.account._id)], options: FindOptions(sort: ["name": 1])).collect()
    }

    public func role(_ id: String, for identity: Identity) async throws -> Role {
        try identity.require(.users, .view)
        guard let filter = SecurityStore.byId(id, in: identity.account._id), let role = try await store.roles.findOne(filter) else {
            throw ObjectNotFound("role", id)
        }
        return role
    }

    public func saveRole(_ id: String?, name: String, description: String, permissions: [String], by identity: Identity) async throws -> Role {
        try identity.require(.users, id == nil ? .create : .edit)
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 100 else { throw InvalidInput("name", "name_required") }
        var parsed: [Permission] = []
        for text in permissions {
            guard let permission = Permission(text) else { throw InvalidInput("permissions", "unknown_permission", text) }
            parsed.append(permission)
        }
        let missing = Set(parsed).subtracting(identity.permissions)
        guard missing.isEmpty else { throw AccessDenied("cannot_grant", missing.sorted().map(\.description).joined(separator: ", ")) }
        let before: Role? = if let id { try await role(id, for: identity) } else { nil }
        if before?.builtIn != nil { throw InvalidInput("name", "builtin_role_readonly") }
        var after = before ?? Role(accountId: identity.account._id, name: name, permissions: [])
        after.name = name
        after.description = description
        after.permissions = Array(Set(parsed)).sorted()
        do {
            if before == nil {
                try await store.roles.insertOne(after)
            } else {
                _ = try await store.roles.replaceOne(filter: ["_id": .string(after._id), "accountId": .string(identity.account._id)], replacement: after)
            }
        } catch let error as MongoError where error.code == .duplicateKey {
            throw InvalidInput("name", "name_taken", name)
        }
        try await audit.record(identity.actor, before == nil ? "role.create" : "role.update", kind: "role", id: after._id, name: name, changes: [
            .init(field: "name", before: before?.name, after: name),
            .init(field: "permissions", before: before?.permissions.map(\.description).joined(separator: " "),
                  after: after.permissions.map(\.description).joined(separator: " ")),
        ].filter { $0.before != $0.after })
        return after
    }

    public func deleteRole(_ id: String, by identity: Identity) async throws {
        try identity.require(.users, .delete)
        let role = try await role(id, for: identity)
        if role.builtIn != nil { throw InvalidInput("id", "builtin_role_readonly") }
        _ = try await store.roles.deleteOne(["_id": .string(role._id), "accountId": .string(identity.account._id)])
        let scope: BSONDocument = ["accountId": .string(identity.account._id)]
        _ = try await store.users.updateMany(filter: scope, update: ["$pull": ["roleIds": .string(role._id)]])
        _ = try await store.groups.updateMany(filter: scope, update: ["$pull": ["roleIds": .string(role._id)]])
        try await audit.record(identity.actor, "role.delete", kind: "role", id: id, name: role.name,
                               changes: [.init(field: "permissions", before: role.permissions.map(\.description).joined(separator: " "), after: nil)])
    }

    // MARK: Groups

    public func groups(for identity: Identity) async throws -> [UserGroup] {
        try identity.require(.users, .view)
        return try await store.groups.find(["accountId": .string(identity.account._id)], options: FindOptions(sort: ["name": 1])).collect()
    }

    public func group(_ id: String, for identity: Identity) async throws -> UserGroup {
        try identity.require(.users, .view)
        guard let filter = SecurityStore.byId(id, in: identity.account._id), let group = try await store.groups.findOne(filter) else {
            throw ObjectNotFound("group", id)
        }
        return group
    }

    public func saveGroup(_ id: String?, name: String, description: String, roleIds roleTexts: [String], by identity: Identity) async throws -> UserGroup {
        try identity.require(.users, id == nil ? .create : .edit)
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 100 else { throw InvalidInput("name", "name_required") }
        let roles = try await roleIds(roleTexts, in: identity.account._id)
        try await requireGrantable(groups: [], roles: roles, by: identity)
        let before: UserGroup? = if let id { try await group(id, for: identity) } else { nil }
        var after = before ?? UserGroup(accountId: identity.account._id, name: name, roleIds: [])
        after.name = name
        after.description = description
        after.roleIds = roles
        do {
            if before == nil {
                try await store.groups.insertOne(after)
            } else {
                _ = try await store.groups.replaceOne(filter: ["_id": .string(after._id), "accountId": .string(identity.account._id)], replacement: after)
            }
        } catch let error as MongoError where error.code == .duplicateKey {
            throw InvalidInput("name", "name_taken", name)
        }
        try await audit.record(identity.actor, before == nil ? "group.create" : "group.update", kind: "group", id: after._id, name: name, changes: [
            .init(field: "name", before: before?.name, after: name),
            .init(field: "roles", before: before?.roleIds.joined(separator: " "), after: roles.joined(separator: " ")),
        ].filter { $0.before != $0.after })
        return after
    }

    public func deleteGroup(_ id: String, by identity: Identity) async throws {
        try identity.require(.users, .delete)
        let group = try await group(id, for: identity)
        _ = try await store.groups.deleteOne(["_id": .string(group._id), "accountId": .string(identity.account._id)])
        _ = try await store.users.updateMany(filter: ["accountId": .string(identity.account._id)], update: ["$pull": ["groupIds": .string(group._id)]])
        try await audit.record(identity.actor, "group.delete", kind: "group", id: id, name: group.name)
    }

    // MARK: API tokens

    public func tokens(for identity: Identity) async throws -> [APIToken] {
        // Everyone sees their own tokens; `users:view` sees the whole account's.
        var filter: BSONDocument = ["accountId": .string(identity.account._id)]
        if !identity.can(.users, .view) { filter.append("userId", .string(identity.user._id)) }
        return try await store.tokens.find(filter, options: FindOptions(sort: ["createdAt": -1])).collect()
    }

    /// Creates a token for the caller with `scopes` (each one the caller holds); returns the secret, shown once.
    public func createToken(name: String, scopes: [String], expiresInDays: Int?, by identity: Identity) async throws -> (APIToken, String) {
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 100 else { throw InvalidInput("name", "name_required") }
        var parsed: [Permission] = []
        for text in scopes {
            guard let permission = Permission(text) else { throw InvalidInput("scopes", "unknown_permission", text) }
            parsed.append(permission)
        }
        let missing = Set(parsed).subtracting(identity.permissions)
        guard missing.isEmpty else { throw AccessDenied("cannot_grant", missing.sorted().map(\.description).joined(separator: ", ")) }
        if let days = expiresInDays, !(1...3650).contains(days) { throw InvalidInput("expiresInDays", "out_of_range", "1", "3650") }
        let secret = SecretToken.generate(prefix: "hrld_")
        let now = Date()
        let token = APIToken(_id: ObjectId().hex, accountId: identity.account._id, userId: identity.user._id, name: name, digest: SecretToken.digest(secret),
                             prefix: String(secret.prefix(9)), scopes: Array(Set(parsed)).sorted(), createdAt: now,
                             expiresAt: expiresInDays.map { now.addingTimeInterval(Double($0) * 86400) }, lastUsedAt: nil, revokedAt: nil)
        try await store.tokens.insertOne(token)
        try await audit.record(identity.actor, "token.create", kind: "token", id: token._id, name: name,
                               changes: [.init(field: "scopes", before: nil, after: token.scopes.map(\.description).joined(separator: " "))])
        return (token, secret)
    }

    public func revokeToken(_ id: String, by identity: Identity) async throws {
        guard let filter = SecurityStore.byId(id, in: identity.account._id), let token = try await store.tokens.findOne(filter) else {
            throw ObjectNotFound("token", id)
        }
        guard token.userId == identity.user._id || identity.can(.users, .edit) else { throw AccessDenied("forbidden_action", "users:edit") }
        _ = try await store.tokens.updateOne(filter: ["_id": .string(token._id)], update: ["$currentDate": ["revokedAt": true]])
        try await audit.record(identity.actor, "token.revoke", kind: "token", id: id, name: token.name)
    }

    // MARK: Account settings

    public func updateSecuritySettings(policy: PasswordPolicy, sessionIdleMinutes: Int, auditRetentionDays: Int, by identity: Identity) async throws -> Account {
        try identity.require(.settings, .edit)
        if let error = policy.validationErrors().first { throw InvalidInput(error.field, "invalid_setting", error.message) }
        guard (5...1440).contains(sessionIdleMinutes) else { throw InvalidInput("sessionIdleMinutes", "out_of_range", "5", "1440") }
        guard (30...3650).contains(auditRetentionDays) else { throw InvalidInput("auditRetentionDays", "out_of_range", "30", "3650") }
        let before = identity.account
        var after = before
        after.passwordPolicy = policy
        after.sessionIdleMinutes = sessionIdleMinutes
        after.auditRetentionDays = auditRetentionDays
        _ = try await store.accounts.replaceOne(filter: ["_id": .string(before._id)], replacement: after)
        try await audit.record(identity.actor, "settings.security", kind: "account", id: before._id, name: before.name,
                               changes: Self.differences(Self.fields(before), Self.fields(after)))
        return after
    }

    public func updateLDAP(_ configuration: LDAPConfiguration?, by identity: Identity) async throws -> Account {
        try identity.require(.settings, .edit)
        if let configuration {
            if let error = configuration.settings.validationErrors().first { throw InvalidInput(error.field, "invalid_setting", error.message) }
            let domain = configuration.loginDomain
            guard !domain.isEmpty, !domain.contains("@"), !domain.contains(" ") else { throw InvalidInput("loginDomain", "login_domain_invalid") }
            if configuration.enabled,
               let other = try await store.accounts.findOne(["ldap.enabled": true, "ldap.loginDomain": .string(domain.lowercased())]),
               other._id != identity.account._id
            {
                throw InvalidInput("loginDomain", "login_domain_taken", domain)
            }
            let groups = Set(try await self.groups(for: identity).map(\._id))
            for mapping in configuration.groupMappings where !groups.contains(mapping.groupId) {
                throw InvalidInput("groupMappings", "unknown_group", mapping.groupId)
            }
        }
        var after = identity.account
        var stored = configuration
        stored?.loginDomain = configuration?.loginDomain.lowercased() ?? ""
        after.ldap = stored
        _ = try await store.accounts.replaceOne(filter: ["_id": .string(after._id)], replacement: after)
        let before = identity.account.ldap
        try await audit.record(identity.actor, "settings.ldap", kind: "account", id: after._id, name: after.name, changes: [
            .init(field: "enabled", before: before.map { String($0.enabled) }, after: stored.map { String($0.enabled) }),
            .init(field: "url", before: before?.settings.url, after: stored?.settings.url),
            .init(field: "loginDomain", before: before?.loginDomain, after: stored?.loginDomain),
            .init(field: "groupMappings", before: before.map { String($0.groupMappings.count) }, after: stored.map { String($0.groupMappings.count) }),
        ].filter { $0.before != $0.after })
        return after
    }

    // MARK: Helpers

    /// Reads a user, changes it and writes it back whole. Booleans and dates are written through
    /// the typed document, never as top-level `$set` values (nx-27017 stores those as numbers and
    /// text; docs/development.md).
    func modifyUser(_ id: String, _ change: (inout User) -> Void) async throws {
        guard var user = try await store.users.findOne(["_id": .string(id)]) else { throw ObjectNotFound("user", id) }
        change(&user)
        _ = try await store.users.replaceOne(filter: ["_id": .string(id), "accountId": .string(user.accountId)], replacement: user)
    }

    func validateLogin(_ login: String) async throws {
        guard (3...254).contains(login.count),
              login.allSatisfy({ $0.isLetter || $0.isNumber || "._-@+".contains($0) })
        else { throw InvalidInput("login", "login_invalid") }
        if try await store.users.findOne(["login": .string(login)]) != nil { throw InvalidInput("login", "login_taken", login) }
    }

    static func validateEmail(_ email: String) throws {
        guard email.isEmpty || (email.contains("@") && !email.contains(" ") && email.count <= 254) else { throw InvalidInput("email", "email_invalid") }
    }

    func groupIds(_ texts: [String], in account: String) async throws -> [String] {
        let ids = try texts.filter { !$0.isEmpty }.map { text -> String in
            guard ObjectId(text) != nil else { throw InvalidInput("groupIds", "unknown_group", text) }
            return text.lowercased()
        }
        let found = try await store.groups.find(SecurityStore.scoped(["_id": ["$in": .array(ids.map { .string($0) })]], in: account)).collect()
        if let missing = ids.first(where: { id in !found.contains { $0._id == id } }) { throw InvalidInput("groupIds", "unknown_group", missing) }
        var seen = Set<String>()
        return ids.filter { seen.insert($0).inserted }
    }

    func roleIds(_ texts: [String], in account: String) async throws -> [String] {
        let ids = try texts.filter { !$0.isEmpty }.map { text -> String in
            guard ObjectId(text) != nil else { throw InvalidInput("roleIds", "unknown_role", text) }
            return text.lowercased()
        }
        let found = try await store.roles.find(SecurityStore.scoped(["_id": ["$in": .array(ids.map { .string($0) })]], in: account)).collect()
        if let missing = ids.first(where: { id in !found.contains { $0._id == id } }) { throw InvalidInput("roleIds", "unknown_role", missing) }
        var seen = Set<String>()
        return ids.filter { seen.insert($0).inserted }
    }

    /// Nobody grants what they do not hold: the permissions of the roles and groups given must be
    /// a subset of the caller's.
    func requireGrantable(groups: [String], roles: [String], by identity: Identity) async throws {
        var probe = User(accountId: identity.account._id, login: "probe", name: "")
        probe.groupIds = groups
        probe.roleIds = roles
        let missing = try await resolver.permissions(of: probe).subtracting(identity.permissions)
        guard missing.isEmpty else { throw AccessDenied("cannot_grant", missing.sorted().map(\.description).joined(separator: ", ")) }
    }

    static func describe(_ before: User?, _ after: User?) -> [AuditEntry.Change] {
        differences(before.map(fields) ?? [:], after.map(fields) ?? [:])
    }

    static func fields(_ user: User) -> [String: String] {
        ["login": user.login, "name": user.name, "email": user.email, "active": String(user.active), "language": user.language ?? "",
         "groups": user.groupIds.joined(separator: " "), "roles": user.roleIds.joined(separator: " "),
         "source": user.source.rawValue]
    }

    static func fields(_ account: Account) -> [String: String] {
        let p = account.passwordPolicy
        return ["minimumLength": String(p.minimumLength), "requiresLowercase": String(p.requiresLowercase), "requiresUppercase": String(p.requiresUppercase),
                "requiresDigit": String(p.requiresDigit), "requiresSymbol": String(p.requiresSymbol), "historyCount": String(p.historyCount),
                "maximumAgeDays": String(p.maximumAgeDays), "lockoutAttempts": String(p.lockoutAttempts), "lockoutMinutes": String(p.lockoutMinutes),
                "sessionIdleMinutes": String(account.sessionIdleMinutes), "auditRetentionDays": String(account.auditRetentionDays)]
    }

    static func differences(_ before: [String: String], _ after: [String: String]) -> [AuditEntry.Change] {
        Set(before.keys).union(after.keys).sorted().compactMap { key in
            let old = before[key].flatMap { $0.isEmpty ? nil : $0 }, new = after[key].flatMap { $0.isEmpty ? nil : $0 }
            return old == new ? nil : AuditEntry.Change(field: key, before: old, after: new)
        }
    }
}
