/// Input that cannot be accepted: which field, and the catalog message that says how to fix it.
/// The API answers it as 422 in English; the panel shows it beside the field in the user's language.
public struct InvalidInput: Error, Sendable {
    public let field: String
    /// A key under `errors.` in the catalogs.
    public let key: String
    /// Values for the message's `{0}`, `{1}`, ….
    public let arguments: [String]

    public init(_ field: String, _ key: String, _ arguments: String...) {
        self.field = field
        self.key = key
        self.arguments = arguments
    }
}

/// A request the caller's permissions do not allow; answered 403 and changes nothing.
public struct AccessDenied: Error, Sendable {
    /// A key under `errors.` in the catalogs.
    public let key: String
    public let arguments: [String]

    public init(_ key: String, _ arguments: String...) {
        self.key = key
        self.arguments = arguments
    }
}

/// An object that does not exist in the caller's account (whether or not it exists in another).
public struct ObjectNotFound: Error, Sendable {
    public let kind: String
    public let id: String

    public init(_ kind: String, _ id: String) {
        self.kind = kind
        self.id = id
    }
}
