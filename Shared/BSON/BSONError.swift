/// A BSON byte sequence that does not follow the specification.
public struct BSONError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What is wrong, and where (a byte offset into the document).
    public let message: String

    package init(_ message: String) {
        self.message = message
    }

    public var description: String { "BSON: \(message)" }
}
