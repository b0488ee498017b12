import Foundation
import Hummingbird
import ServiceSupport

/// Reading and writing the API's JSON bodies.
enum JSONBody {
    static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            return try decoder.decode(T.self, from: Data(buffer: buffer))
        } catch let DecodingError.keyNotFound(key, _) {
            throw APIError(.badRequest, code: "missing_field", message: "the field '\(key.stringValue)' is required", field: key.stringValue)
        } catch let DecodingError.typeMismatch(_, context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw APIError(.badRequest, code: "invalid_field", message: "'\(field)' has the wrong type: \(context.debugDescription)", field: field)
        } catch let DecodingError.valueNotFound(_, context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw APIError(.badRequest, code: "invalid_field", message: "'\(field)' must not be null", field: field)
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw APIError(.badRequest, code: "invalid_field", message: "'\(field)': \(context.debugDescription)", field: field)
        } catch {
            throw APIError(.badRequest, code: "invalid_json", message: "the body is not valid JSON: send an object with Content-Type: application/json")
        }
    }

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}

/// The API's view of a user (no hashes, no secrets).
struct UserView: Encodable {
    let id: String, login: String, name: String, email: String, source: String, active: Bool, language: String?
    let groupIds: [String], roleIds: [String], mustChangePassword: Bool, locked: Bool, secondFactor: Bool
    let createdAt: Date, lastLoginAt: Date?
    var oneTimePassword: String?

    init(_ user: User, oneTimePassword: String? = nil) {
        id = user._id; login = user.login; name = user.name; email = user.email; source = user.source.rawValue
        active = user.active; language = user.language; groupIds = user.groupIds; roleIds = user.roleIds
        mustChangePassword = user.mustChangePassword; locked = (user.lockedUntil ?? .distantPast) > Date(); secondFactor = user.totpEnabled
        createdAt = user.createdAt; lastLoginAt = user.lastLoginAt
        self.oneTimePassword = oneTimePassword
    }
}

struct RoleView: Encodable {
    let id: String, name: String, description: String, builtIn: String?, permissions: [String]
    init(_ role: Role) {
        id = role._id; name = role.name; description = role.description; builtIn = role.builtIn; permissions = role.permissions.map(\.description)
    }
}

struct GroupView: Encodable {
    let id: String, name: String, description: String, roleIds: [String]
    init(_ group: UserGroup) {
        id = group._id; name = group.name; description = group.description; roleIds = group.roleIds
    }
}

struct TokenView: Encodable {
    let id: String, name: String, prefix: String, scopes: [String], userId: String
    let createdAt: Date, expiresAt: Date?, lastUsedAt: Date?, revokedAt: Date?
    var token: String?
    init(_ token: APIToken, secret: String? = nil) {
        id = token._id; name = token.name; prefix = token.prefix; scopes = token.scopes.map(\.description); userId = token.userId
        createdAt = token.createdAt; expiresAt = token.expiresAt; lastUsedAt = token.lastUsedAt; revokedAt = token.revokedAt
        self.token = secret
    }
}

struct AuditView: Encodable {
    let id: String, at: Date, actor: String, via: String, address: String, action: String
    let objectKind: String, objectId: String, objectName: String, changes: [AuditEntry.Change]
    init(_ entry: AuditEntry) {
        id = entry._id; at = entry.at; actor = entry.actorLogin; via = entry.via; address = entry.address; action = entry.action
        objectKind = entry.objectKind; objectId = entry.objectId; objectName = entry.objectName; changes = entry.changes
    }
}

struct ListView<Item: Encodable>: Encodable {
    let items: [Item]
}
