/// BSON binary data (type 0x05) with its subtype.
public struct BSONBinary: Sendable, Hashable {
    /// The binary subtypes of the specification that Herald uses.
    public struct Subtype: RawRepresentable, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        public static let generic = Subtype(rawValue: 0x00)
        public static let function = Subtype(rawValue: 0x01)
        public static let uuid = Subtype(rawValue: 0x04)
        public static let md5 = Subtype(rawValue: 0x05)
        public static let encrypted = Subtype(rawValue: 0x06)
        public static let userDefined = Subtype(rawValue: 0x80)
    }

    public var subtype: Subtype
    public var bytes: [UInt8]

    public init(subtype: Subtype = .generic, bytes: [UInt8]) {
        self.subtype = subtype
        self.bytes = bytes
    }
}

/// A BSON timestamp (type 0x11): the server's internal replication clock.
public struct BSONTimestamp: Sendable, Hashable {
    public var seconds: UInt32
    public var increment: UInt32

    public init(seconds: UInt32, increment: UInt32) {
        self.seconds = seconds
        self.increment = increment
    }
}

/// A BSON regular expression (type 0x0B): a pattern and its option letters, sorted.
public struct BSONRegularExpression: Sendable, Hashable {
    public var pattern: String
    public var options: String

    public init(pattern: String, options: String = "") {
        self.pattern = pattern
        self.options = String(options.sorted())
    }
}
