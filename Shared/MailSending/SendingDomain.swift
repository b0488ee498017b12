import Foundation
import MIME

/// A domain the account sends from (settings store, `sending_domains`): its DKIM key and selector,
/// and the host of its VERP return paths. mta-sender signs each message with the key of its
/// delivery's `sender_id`, which names one of these.
public struct SendingDomain: Codable, Sendable, Equatable {
    public enum Algorithm: String, Codable, Sendable, CaseIterable {
        case rsa2048 = "rsa-2048"
        case ed25519
    }

    /// The domain, lower case (`shop.example`).
    public var _id: String
    public var accountId: String
    public var selector: String
    public var algorithm: Algorithm
    /// PKCS#8 PEM. Never shown again after it is made; the panel shows the DNS record instead.
    public var privateKey: String
    /// Where bounces come back: the VERP return path's domain (`bounces.shop.example`).
    public var returnPathDomain: String
    public var createdAt: Date

    public init(domain: String, accountId: String, selector: String, algorithm: Algorithm, privateKey: String, returnPathDomain: String, createdAt: Date = Date()) {
        _id = domain.lowercased()
        self.accountId = accountId
        self.selector = selector
        self.algorithm = algorithm
        self.privateKey = privateKey
        self.returnPathDomain = returnPathDomain
        self.createdAt = createdAt
    }

    public static let collectionName = "sending_domains"

    /// The signer for this domain's key.
    public func signer() throws -> DKIMSigner {
        DKIMSigner(domain: _id, selector: selector, key: try DKIMSigner.key(pem: privateKey))
    }
}
