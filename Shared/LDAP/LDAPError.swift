/// Why a directory operation failed.
public struct LDAPError: Error, Sendable, CustomStringConvertible {
    /// The LDAP result code (49 is invalidCredentials, -1 server down, …).
    public let code: Int32
    /// What was being done.
    public let operation: String
    /// The library's text for the code, plus the server's diagnostic when it sent one.
    public let message: String

    public var isInvalidCredentials: Bool { code == 49 }

    public var description: String { "LDAP \(operation) failed (\(code)): \(message)" }
}
