import BSON

extension BSONValue {
    /// The same value, whatever integer width the store gave back (nx-27017 returns small int64
    /// values as int32), key order aside in documents.
    public func isEquivalent(to other: BSONValue) -> Bool {
        switch (self, other) {
        case (.int32, .int32), (.int32, .int64), (.int64, .int32), (.int64, .int64):
            return intValue == other.intValue
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.isEquivalent(to: $1) }
        case (.document(let a), .document(let b)):
            return a.isEquivalent(to: b)
        default:
            return self == other
        }
    }
}

extension BSONDocument {
    /// The same keys with equivalent values, in any order.
    public func isEquivalent(to other: BSONDocument) -> Bool {
        let mine = Dictionary(map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        let theirs = Dictionary(other.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        guard mine.count == theirs.count else { return false }
        return mine.allSatisfy { key, value in theirs[key].map { value.isEquivalent(to: $0) } ?? false }
    }
}
