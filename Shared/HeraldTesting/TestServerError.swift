/// A test server or process that could not be started or stopped, with what it printed.
public struct TestServerError: Error, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
