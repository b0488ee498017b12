import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting

/// A cookie-keeping client for the panel: follows what a browser would send, and reads the CSRF
/// token from the last page it got.
final class Browser: @unchecked Sendable {
    // @unchecked Sendable: used by one test at a time.
    let client: any TestClientProtocol
    var cookies: [String: String] = [:]
    var headers: [HTTPField.Name: String] = [:]
    private(set) var lastPage = ""

    init(_ client: any TestClientProtocol, language: String? = nil) {
        self.client = client
        if let language { headers[.acceptLanguage] = language }
    }

    struct Page {
        let status: HTTPResponse.Status
        let location: String?
        let body: String
        let headers: HTTPFields
    }

    var csrf: String? {
        guard let range = lastPage.range(of: #"name="_csrf" value="([^"]*)""#, options: .regularExpression) else { return nil }
        let match = String(lastPage[range])
        return match.components(separatedBy: "value=\"").last.map { String($0.dropLast()) }
    }

    func request(_ method: HTTPRequest.Method, _ path: String, body: String? = nil, contentType: String = "application/x-www-form-urlencoded",
                 extra: HTTPFields = [:], bytes: [UInt8]? = nil) async throws -> Page
    {
        var fields = HTTPFields()
        for (name, value) in headers { fields[name] = value }
        if !cookies.isEmpty { fields[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ") }
        if body != nil { fields[.contentType] = contentType }
        fields.append(contentsOf: extra)
        let response = try await client.execute(uri: path, method: method, headers: fields, body: bytes.map { ByteBuffer(bytes: $0) } ?? body.map { ByteBuffer(string: $0) })
        for field in response.headers where field.name == .setCookie {
            let pair = field.value.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
            let name = String(pair[0]), value = pair.count > 1 ? String(pair[1]) : ""
            if value.isEmpty || field.value.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
        }
        let text = String(buffer: response.body)
        if response.headers[.contentType]?.hasPrefix("text/html") == true { lastPage = text }
        return Page(status: response.status, location: response.headers[.location], body: text, headers: response.headers)
    }

    func get(_ path: String) async throws -> Page { try await request(.get, path) }

    /// Posts a form with the CSRF token of the last page (unless `csrf` is given).
    func post(_ path: String, _ fields: [(String, String)], csrf: String? = nil) async throws -> Page {
        let token = csrf ?? self.csrf ?? ""
        let body = ([("_csrf", token)] + fields).map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        return try await request(.post, path, body: body)
    }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }

    /// Opens the login page and logs in; returns the answer to the login form.
    @discardableResult
    func logIn(_ login: String, _ password: String) async throws -> Page {
        _ = try await get("/login")
        return try await post("/login", [("login", login), ("password", password), ("next", "/")])
    }
}
