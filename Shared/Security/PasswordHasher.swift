import HummingbirdBcrypt
import NIOPosix

/// Hashes and checks passwords with bcrypt (hummingbird-auth's implementation of OpenBSD's
/// bcrypt). The work runs on NIO's blocking thread pool: a cost-12 hash takes a quarter of a
/// second and must not hold a cooperative thread.
public struct PasswordHasher: Sendable {
    /// bcrypt's cost (log2 of its rounds), 4 to 31.
    public let cost: UInt8

    public init(cost: Int = 12) {
        precondition((4...31).contains(cost), "bcrypt cost must be 4 to 31")
        self.cost = UInt8(cost)
    }

    public func hash(_ password: String) async throws -> String {
        let cost = cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, against hash: String) async throws -> Bool {
        guard hash.hasPrefix("$2") else { return false }
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}
