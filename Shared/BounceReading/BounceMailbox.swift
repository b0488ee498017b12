import BSON
import Foundation

/// A bounce or feedback-loop mailbox of an account (settings store, `bounce_mailboxes`), read
/// over POP3 by bounce-fbl-reader every `intervalSeconds`.
public struct BounceMailbox: Codable, Sendable, Equatable {
    public var _id: String
    public var accountId: String
    public var name: String
    public var host: String
    public var port: Int
    public var security: POP3Client.Security
    public var user: String
    /// A secret, never shown back.
    public var password: String
    public var verifyCertificate: Bool
    public var intervalSeconds: Int
    public var enabled: Bool
    /// When it was last read, and what came of it.
    public var lastReadAt: Date?
    public var lastResult: String

    public init(accountId: String, name: String, host: String, port: Int, security: POP3Client.Security, user: String, password: String,
                verifyCertificate: Bool = true, intervalSeconds: Int = 60)
    {
        _id = ObjectId().hex
        self.accountId = accountId
        self.name = name
        self.host = host
        self.port = port
        self.security = security
        self.user = user
        self.password = password
        self.verifyCertificate = verifyCertificate
        self.intervalSeconds = intervalSeconds
        enabled = true
        lastResult = ""
    }

    public static let collectionName = "bounce_mailboxes"

    public var client: POP3Client {
        POP3Client(host: host, port: port, security: security, user: user, password: password, verifyCertificate: verifyCertificate)
    }
}
