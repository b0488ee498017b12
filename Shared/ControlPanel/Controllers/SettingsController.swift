import BSON
import Hummingbird
import LDAP
import Security

/// The account's security settings (password policy, sessions, audit retention) and its LDAP
/// login, on the panel and at `/api/v1/settings/password-policy`.
struct SettingsController {
    let administration: AccessAdministration
    let renderer: PanelRenderer

    func addRoutes(to router: Router<PanelRequestContext>) {
        router.get("/settings/security", use: securityPage)
        router.post("/settings/security", use: saveSecurity)
        router.get("/settings/ldap", use: ldapPage)
        router.post("/settings/ldap", use: saveLDAP)
        router.post("/settings/ldap/test", use: testLDAP)
        router.get("/api/v1/settings/password-policy", use: apiPolicy)
        router.put("/api/v1/settings/password-policy", use: apiSavePolicy)
    }

    func require(_ context: PanelRequestContext, _ action: Permission.Action) throws -> Identity {
        let identity = try context.requireIdentity()
        try identity.require(.settings, action)
        return identity
    }

    func securityValues(_ account: Account) -> [String: Any] {
        let p = account.passwordPolicy
        return ["minimumLength": p.minimumLength, "requiresLowercase": p.requiresLowercase, "requiresUppercase": p.requiresUppercase,
                "requiresDigit": p.requiresDigit, "requiresSymbol": p.requiresSymbol, "historyCount": p.historyCount,
                "maximumAgeDays": p.maximumAgeDays, "lockoutAttempts": p.lockoutAttempts, "lockoutMinutes": p.lockoutMinutes,
                "sessionIdleMinutes": account.sessionIdleMinutes, "auditRetentionDays": account.auditRetentionDays]
    }

    @Sendable func securityPage(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try require(context, .view)
        var values: [String: Any] = ["s": securityValues(identity.account), "canEdit": identity.can(.settings, .edit)]
        if request.uri.queryParameters["notice"] != nil { values["notice"] = renderer.catalogs[context.language].text("notices.saved") }
        return renderer.page("security", title: "security.title", values: values, context: context, active: "security")
    }

    @Sendable func saveSecurity(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try require(context, .edit)
        let form = try await FormData.read(request, context: context)
        do {
            let policy = PasswordPolicy(minimumLength: try form.int("minimumLength"), requiresLowercase: form.flag("requiresLowercase"),
                                        requiresUppercase: form.flag("requiresUppercase"), requiresDigit: form.flag("requiresDigit"),
                                        requiresSymbol: form.flag("requiresSymbol"), historyCount: try form.int("historyCount"),
                                        maximumAgeDays: try form.int("maximumAgeDays"), lockoutAttempts: try form.int("lockoutAttempts"),
                                        lockoutMinutes: try form.int("lockoutMinutes"))
            _ = try await administration.updateSecuritySettings(policy: policy, sessionIdleMinutes: try form.int("sessionIdleMinutes"),
                                                                auditRetentionDays: try form.int("auditRetentionDays"), by: identity)
        } catch let error as InvalidInput {
            return renderer.page("security", title: "security.title", values: [
                "s": securityValues(identity.account), "canEdit": true,
                "error": error.field + ": " + renderer.message(error.key, error.arguments, context: context),
            ], context: context, status: .unprocessableContent, active: "security")
        }
        return .redirect(to: "/settings/security?notice=saved", type: .normal)
    }

    func ldapValues(_ identity: Identity, groups: [UserGroup]) -> [String: Any] {
        let ldap = identity.account.ldap
        let s = ldap?.settings
        let mapped = Dictionary(ldap?.groupMappings.map { ($0.groupId, $0.ldapGroupDN) } ?? [], uniquingKeysWith: { a, _ in a })
        return ["enabled": ldap?.enabled ?? false, "url": s?.url ?? "ldap://", "startTLS": s?.startTLS ?? false,
                "userDNTemplate": s?.userDNTemplate ?? "uid={login},ou=people,dc=example,dc=com", "groupBaseDN": s?.groupBaseDN ?? "",
                "groupFilter": s?.groupFilter ?? "(&(objectClass=groupOfNames)(member={dn}))", "serviceBindDN": s?.serviceBindDN ?? "",
                "timeoutSeconds": s?.timeoutSeconds ?? 5, "loginDomain": ldap?.loginDomain ?? "", "caCertificateFile": s?.caCertificateFile ?? "",
                "mappings": groups.map { ["groupId": $0._id, "name": $0.name, "dn": mapped[$0._id] ?? ""] }]
    }

    func ldapPage(_ context: PanelRequestContext, extra: [String: Any] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = try require(context, .view)
        var values: [String: Any] = ["l": ldapValues(identity, groups: try await administration.groups(for: identity)), "canEdit": identity.can(.settings, .edit)]
        values.merge(extra) { $1 }
        return renderer.page("ldap", title: "ldap.title", values: values, context: context, status: status, active: "ldap")
    }

    @Sendable func ldapPage(_ request: Request, context: PanelRequestContext) async throws -> Response {
        try await ldapPage(context, extra: request.uri.queryParameters["notice"] != nil ? ["notice": renderer.catalogs[context.language].text("notices.saved")] : [:])
    }

    func configuration(_ form: FormData, current: LDAPConfiguration?) throws -> LDAPConfiguration {
        let password = (form["serviceBindPassword"] ?? "").isEmpty ? current?.settings.serviceBindPassword ?? "" : form["serviceBindPassword"]!
        let settings = LDAPSettings(url: form["url"] ?? "", startTLS: form.flag("startTLS"), userDNTemplate: form["userDNTemplate"] ?? "",
                                    groupBaseDN: form["groupBaseDN"] ?? "", groupFilter: form["groupFilter"] ?? "",
                                    serviceBindDN: form["serviceBindDN"] ?? "", serviceBindPassword: password, timeoutSeconds: try form.int("timeoutSeconds"),
                                    caCertificateFile: (form["caCertificateFile"] ?? "").trimmingCharacters(in: .whitespaces))
        var mappings: [LDAPConfiguration.GroupMapping] = []
        for (name, value) in form.pairs where name.hasPrefix("map_") && !value.trimmingCharacters(in: .whitespaces).isEmpty {
            let id = String(name.dropFirst(4))
            guard ObjectId(id) != nil else { throw InvalidInput("groupMappings", "unknown_group", id) }
            mappings.append(.init(ldapGroupDN: value.trimmingCharacters(in: .whitespaces), groupId: id))
        }
        return LDAPConfiguration(enabled: form.flag("enabled"), settings: settings, loginDomain: (form["loginDomain"] ?? "").trimmingCharacters(in: .whitespaces),
                                 groupMappings: mappings)
    }

    @Sendable func saveLDAP(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try require(context, .edit)
        let form = try await FormData.read(request, context: context)
        do {
            _ = try await administration.updateLDAP(try configuration(form, current: identity.account.ldap), by: identity)
        } catch let error as InvalidInput {
            return try await ldapPage(context, extra: ["error": error.field + ": " + renderer.message(error.key, error.arguments, context: context)],
                                      status: .unprocessableContent)
        }
        return .redirect(to: "/settings/ldap?notice=saved", type: .normal)
    }

    /// "Test connection": connects and binds with what the form holds now, saved or not.
    @Sendable func testLDAP(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try require(context, .view)
        let form = try await FormData.read(request, context: context)
        let catalog = renderer.catalogs[context.language]
        let result: [String: Any]
        do {
            let settings = try configuration(form, current: identity.account.ldap).settings
            if let problem = settings.validationErrors().first { throw InvalidInput(problem.field, "invalid_setting", problem.message) }
            let summary = try await LDAPDirectory(settings: settings).testConnection()
            result = ["ok": true, "text": catalog.text("ldap.test_ok") + " " + summary]
        } catch let error as InvalidInput {
            result = ["ok": false, "text": error.field + ": " + renderer.message(error.key, error.arguments, context: context)]
        } catch {
            result = ["ok": false, "text": catalog.text("ldap.test_failed") + " \(error)"]
        }
        try await administration.audit.record(identity.actor, "settings.ldap_test", kind: "account", id: identity.account._id, name: identity.account.name,
                                              changes: [.init(field: "result", before: nil, after: (result["ok"] as? Bool) == true ? "ok" : "failed")])
        return try await ldapPage(context, extra: ["test": result])
    }

    struct PolicyBody: Codable {
        let passwordPolicy: PasswordPolicy
        let sessionIdleMinutes: Int
        let auditRetentionDays: Int
    }

    @Sendable func apiPolicy(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let account = try require(context, .view).account
        return try JSONBody.response(PolicyBody(passwordPolicy: account.passwordPolicy, sessionIdleMinutes: account.sessionIdleMinutes,
                                                auditRetentionDays: account.auditRetentionDays))
    }

    @Sendable func apiSavePolicy(_ request: Request, context: PanelRequestContext) async throws -> Response {
        let identity = try require(context, .edit)
        let body = try await JSONBody.decode(PolicyBody.self, from: request)
        let account = try await administration.updateSecuritySettings(policy: body.passwordPolicy, sessionIdleMinutes: body.sessionIdleMinutes,
                                                                      auditRetentionDays: body.auditRetentionDays, by: identity)
        return try JSONBody.response(PolicyBody(passwordPolicy: account.passwordPolicy, sessionIdleMinutes: account.sessionIdleMinutes,
                                                auditRetentionDays: account.auditRetentionDays))
    }
}
