import Foundation
import Hummingbird
import Mustache
import Security

/// Renders the panel's pages: Mustache templates from `Resources/Templates` inside the layout,
/// with the request's catalog as `t`, the navigation the caller may see, and the CSRF token.
public struct PanelRenderer: Sendable {
    let library: MustacheLibrary
    public let catalogs: Catalogs

    public init(resources: URL) async throws {
        library = try await MustacheLibrary(directory: resources.appendingPathComponent("Templates").path)
        catalogs = try Catalogs(directory: resources.appendingPathComponent("Locales"))
    }

    /// The navigation: (section, path, permission needed, under the Settings menu).
    static let navigation: [(String, String, Permission?, Bool)] = [
        ("dashboard", "/", nil, false),
        ("databases", "/databases", Permission(.profiles, .view), false),
        ("templates", "/templates", Permission(.templates, .view), false),
        ("campaigns", "/campaigns", Permission(.campaigns, .view), false),
        ("promo_codes", "/promo-codes", Permission(.promoCodes, .view), false),
        ("stop_list", "/stop-list", Permission(.channels, .view), false),
        ("audit", "/audit", Permission(.audit, .view), false),
        ("api", "/api", nil, false),
        ("users", "/settings/users", Permission(.users, .view), true),
        ("groups", "/settings/groups", Permission(.users, .view), true),
        ("roles", "/settings/roles", Permission(.users, .view), true),
        ("security", "/settings/security", Permission(.settings, .view), true),
        ("ldap", "/settings/ldap", Permission(.settings, .view), true),
        ("tokens", "/settings/tokens", nil, true),
        ("bounce_mailboxes", "/settings/bounce-mailboxes", Permission(.channels, .view), true),
        ("delivery", "/settings/delivery", Permission(.channels, .view), true),
    ]

    /// A full page. `values` are the page's own; `title` is a catalog key.
    public func page(_ template: String, title: String, values: [String: Any] = [:], context: PanelRequestContext,
                     status: HTTPResponse.Status = .ok, active: String? = nil) -> Response
    {
        let catalog = catalogs[context.language]
        // Mustache treats an empty string as true: leave out empty messages so no empty alert shows.
        var object = values.filter { !(($0.value as? String)?.isEmpty ?? false) }
        object["t"] = catalog.tree
        object["lang"] = catalog.code
        object["title"] = catalog.text(title)
        object["languages"] = catalogs.all.values.sorted { $0.code < $1.code }.map { ["code": $0.code, "name": $0.name, "current": $0.code == catalog.code] }
        if let identity = context.identity {
            object["me"] = ["name": identity.user.name, "login": identity.user.login, "account": identity.account.name,
                            "platformAdmin": identity.user.platformAdmin]
            if let session = identity.session {
                object["csrf"] = session.csrfToken
                if session.stage == .active {
                    let allowed = Self.navigation.filter { $0.2.map(identity.permissions.contains) ?? true }
                    func item(_ section: String, _ href: String) -> [String: Any] { ["label": catalog.text("nav.\(section)"), "href": href, "active": section == active] }
                    object["nav"] = allowed.filter { !$0.3 }.map { item($0.0, $0.1) }
                    let settings = allowed.filter(\.3).map { item($0.0, $0.1) } + (identity.user.platformAdmin ? [item("accounts", "/accounts")] : [])
                    object["settingsNav"] = settings
                    object["settingsActive"] = settings.contains { $0["active"] as? Bool == true }
                }
            }
        }
        let body = library.render(object, withTemplate: template) ?? "template \(template) is missing"
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// The message of an ``InvalidInput`` or ``AccessDenied`` in the request's language.
    public func message(_ key: String, _ arguments: [String], context: PanelRequestContext) -> String {
        catalogs[context.language].text("errors." + key, arguments)
    }
}
