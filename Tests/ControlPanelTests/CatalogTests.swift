import ControlPanel
import CustomerData
import Security
import Foundation
import HeraldTesting
import Testing

/// Every string of the interface is in every catalog, and every key the code and templates use exists.
@Suite struct CatalogTests {
    static let resources = ControlPanel.resources

    @Test func everyCatalogHasTheSameKeys() throws {
        let catalogs = try Catalogs(directory: Self.resources.appendingPathComponent("Locales"))
        #expect(Set(catalogs.all.keys) == ["en", "ru"])
        let english = catalogs["en"].keys
        for (code, catalog) in catalogs.all {
            #expect(catalog.keys.subtracting(english).sorted() == [], "\(code) has keys English lacks")
            #expect(english.subtracting(catalog.keys).sorted() == [], "\(code) lacks keys")
        }
        #expect(catalogs["ru"].text("login.locked", ["5"]) == "Слишком много неудачных попыток: вход заблокирован ещё на 5 мин.")
    }

    @Test func everyKeyTheTemplatesAndCodeUseExists() throws {
        let keys = try Catalogs(directory: Self.resources.appendingPathComponent("Locales"))["en"].keys
        var used = Set<String>()
        let templates = Self.resources.appendingPathComponent("Templates")
        for file in try FileManager.default.contentsOfDirectory(atPath: templates.path) {
            let text = try String(contentsOf: templates.appendingPathComponent(file), encoding: .utf8)
            for match in text.matches(of: /\{\{t\.([a-z_]+\.[a-z_]+)\}\}/) { used.insert(String(match.1)) }
        }
        #expect(used.count > 100)
        let sources = TestEnvironment.repositoryRoot.appendingPathComponent("Shared/ControlPanel")
        let enumerator = try #require(FileManager.default.enumerator(atPath: sources.path))
        for case let path as String in enumerator where path.hasSuffix(".swift") {
            let text = try String(contentsOf: sources.appendingPathComponent(path), encoding: .utf8)
            for match in text.matches(of: /(?:InvalidInput\("[A-Za-z]+", |AccessDenied\()"([a-z_]+)"[,)]/) { used.insert("errors." + String(match.1)) }
            for match in text.matches(of: /text\("([a-z_]+\.[a-z_]+)"[,)]/) { used.insert(String(match.1)) }
        }
        // Keys made from a value: every value has its string.
        used.formUnion(ProfileWriter.Mode.allCases.map { "imports.mode_" + $0.rawValue })
        used.formUnion(["uploaded", "queued", "running", "succeeded", "failed", "cancelled"].map { "imports.state_" + $0 })
        used.formUnion(FieldType.allCases.map { "field_types." + $0.rawValue })
        used.formUnion(Subscription.Channel.allCases.map { "channels." + $0.rawValue })
        used.formUnion(Subscription.Status.allCases.map { "subscription_status." + $0.rawValue })
        used.formUnion(ProfileRelation.standardKinds.map { "relation_kinds." + $0 })
        used.formUnion(Permission.Resource.allCases.map { "resources." + $0.rawValue })
        used.formUnion(Permission.Action.allCases.map { "actions." + $0.rawValue })
        for violation in ["too_short", "missing_lowercase", "missing_uppercase", "missing_digit", "missing_symbol", "contains_login", "recently_used"] {
            used.insert("errors.password_" + violation)
        }
        #expect(used.subtracting(keys).sorted() == [])
    }

    @Test func acceptLanguageIsHonouredWithQualities() throws {
        let catalogs = try Catalogs(directory: Self.resources.appendingPathComponent("Locales"))
        #expect(catalogs.choose(user: nil, cookie: nil, acceptLanguage: "de;q=1, ru;q=0.8, en;q=0.5") == "ru")
        #expect(catalogs.choose(user: nil, cookie: nil, acceptLanguage: "ru;q=0") == "en")
        #expect(catalogs.choose(user: nil, cookie: "ru", acceptLanguage: "en") == "ru")
        #expect(catalogs.choose(user: "en", cookie: "ru", acceptLanguage: "ru") == "en")
    }
}
