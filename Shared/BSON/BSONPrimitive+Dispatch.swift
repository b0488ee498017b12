import Foundation

// Which types are primitives is decided by comparing metatypes, not by a dynamic cast: a failed
// `as? any BSONPrimitive` searches the conformance tables, and every struct property that is not
// a primitive would pay for it. `BSONPrimitive` is package-internal, so this list is complete.

/// `value` as a primitive, or nil when `T` is not one of the primitive types.
@inline(__always)
func primitive<T>(_ value: T) -> (any BSONPrimitive)? {
    let t = ObjectIdentifier(T.self)
    if t == ObjectIdentifier(String.self) { return unsafeBitCast(value, to: String.self) }
    if t == ObjectIdentifier(Date.self) { return unsafeBitCast(value, to: Date.self) }
    if t == ObjectIdentifier(Int.self) { return unsafeBitCast(value, to: Int.self) }
    if t == ObjectIdentifier(Double.self) { return unsafeBitCast(value, to: Double.self) }
    if t == ObjectIdentifier(Bool.self) { return unsafeBitCast(value, to: Bool.self) }
    if t == ObjectIdentifier(ObjectId.self) { return unsafeBitCast(value, to: ObjectId.self) }
    if t == ObjectIdentifier(Int64.self) { return unsafeBitCast(value, to: Int64.self) }
    if t == ObjectIdentifier(Int32.self) { return unsafeBitCast(value, to: Int32.self) }
    if t == ObjectIdentifier(Decimal128.self) { return unsafeBitCast(value, to: Decimal128.self) }
    if t == ObjectIdentifier(BSONDocument.self) { return unsafeBitCast(value, to: BSONDocument.self) }
    if t == ObjectIdentifier(BSONValue.self) { return unsafeBitCast(value, to: BSONValue.self) }
    if t == ObjectIdentifier(Data.self) { return unsafeBitCast(value, to: Data.self) }
    if t == ObjectIdentifier(UUID.self) { return unsafeBitCast(value, to: UUID.self) }
    if t == ObjectIdentifier(Decimal.self) { return unsafeBitCast(value, to: Decimal.self) }
    if t == ObjectIdentifier(Float.self) { return unsafeBitCast(value, to: Float.self) }
    if t == ObjectIdentifier(Int8.self) { return unsafeBitCast(value, to: Int8.self) }
    if t == ObjectIdentifier(Int16.self) { return unsafeBitCast(value, to: Int16.self) }
    if t == ObjectIdentifier(UInt.self) { return unsafeBitCast(value, to: UInt.self) }
    if t == ObjectIdentifier(UInt8.self) { return unsafeBitCast(value, to: UInt8.self) }
    if t == ObjectIdentifier(UInt16.self) { return unsafeBitCast(value, to: UInt16.self) }
    if t == ObjectIdentifier(UInt32.self) { return unsafeBitCast(value, to: UInt32.self) }
    if t == ObjectIdentifier(UInt64.self) { return unsafeBitCast(value, to: UInt64.self) }
    if t == ObjectIdentifier([String].self) { return unsafeBitCast(value, to: [String].self) }
    if t == ObjectIdentifier([Int].self) { return unsafeBitCast(value, to: [Int].self) }
    if t == ObjectIdentifier([Double].self) { return unsafeBitCast(value, to: [Double].self) }
    if t == ObjectIdentifier([ObjectId].self) { return unsafeBitCast(value, to: [ObjectId].self) }
    if t == ObjectIdentifier([Date].self) { return unsafeBitCast(value, to: [Date].self) }
    if t == ObjectIdentifier([Int64].self) { return unsafeBitCast(value, to: [Int64].self) }
    if t == ObjectIdentifier([Int32].self) { return unsafeBitCast(value, to: [Int32].self) }
    if t == ObjectIdentifier([Bool].self) { return unsafeBitCast(value, to: [Bool].self) }
    if t == ObjectIdentifier([BSONDocument].self) { return unsafeBitCast(value, to: [BSONDocument].self) }
    if t == ObjectIdentifier([BSONValue].self) { return unsafeBitCast(value, to: [BSONValue].self) }
    if t == ObjectIdentifier(BSONBinary.self) { return unsafeBitCast(value, to: BSONBinary.self) }
    if t == ObjectIdentifier(BSONTimestamp.self) { return unsafeBitCast(value, to: BSONTimestamp.self) }
    if t == ObjectIdentifier(BSONRegularExpression.self) { return unsafeBitCast(value, to: BSONRegularExpression.self) }
    return nil
}

/// Reads the primitive `P` or throws the mismatch.
@inline(__always)
private func get<P: BSONPrimitive>(_ p: P.Type, _ r: BSONReader, _ type: UInt8, _ o: Int, _ limit: Int, _ mismatch: (String) -> any Error) throws -> P {
    guard let v = try P.readBSON(r, type: type, at: o, limit: limit) else { throw mismatch(P.bsonExpectation) }
    return v
}

/// Reads a `T`: directly when it is a primitive, otherwise with `decode` (its `init(from:)`).
/// An array of primitives with an element of another type also goes to `decode`, whose error
/// names the element. No generic helper types, closures over `T` or optionals of `T` here: from
/// unspecialized code each of them would cost a metadata look-up per value.
@inline(__always)
func readValue<T>(_ t: T.Type, _ r: BSONReader, type: UInt8, at o: Int, limit: Int,
                  mismatch: (String) -> any Error, decode: () throws -> T) throws -> T {
    let id = ObjectIdentifier(T.self)
    if id == ObjectIdentifier(String.self) { return unsafeBitCast(try get(String.self, r, type, o, limit, mismatch), to: T.self) }
    if id == ObjectIdentifier(Date.self) { return unsafeBitCast(try get(Date.self, r, type, o, limit, mismatch), to: T.self) }
    if id == ObjectIdentifier(Int.self) { return unsafeBitCast(try get(Int.self, r, type, o, limit, mismatch), to: T.self) }
    if id == ObjectIdentifier(Double.self) { return unsafeBitCast(try get(Double.self, r, type, o, limit, mismatch), to: T.self) }
    if id == ObjectIdentifier(Bool.self) { return unsafeBitCast(try get(Bool.self, r, type, o, limit, mismatch), to: T.self) }
    if id == ObjectIdentifier(ObjectId.self) { return unsafeBitCast(try get(ObjectId.self, r, type, o, limit, mismatch), to: T.self) }
    if id == ObjectIdentifier(Int64.self) { return unsafeBitCast(try get(Int64.self, r, type, o, limit, mismatch), to: T.self) }
    if id == ObjectIdentifier(Int32.self) { return unsafeBitCast(try get(Int32.self, r, type, o, limit, mismatch), to: T.self) }
    if id == ObjectIdentifier(Decimal128.self) { return unsafeBitCast(try get(Decimal128.self, r, type, o, limit, mismatch), to: T.self) }
    if id == ObjectIdentifier(BSONDocument.self) { return unsafeBitCast(try get(BSONDocument.self, r, type, o, limit, mismatch), to: T.self) }
    if id == ObjectIdentifier(BSONValue.self) { return unsafeBitCast(try get(BSONValue.self, r, type, o, limit, mismatch), to: T.self) }
    if id == ObjectIdentifier(Data.self) { return unsafeBitCast(try get(Data.self, r, type, o, limit, mismatch), to: T.self) }
    if id == ObjectIdentifier(UUID.self) { return unsafeBitCast(try get(UUID.self, r, type, o, limit, mismatch), to: T.self) }
    if id == ObjectIdentifier(Decimal.self) { return unsafeBitCast(try get(Decimal.self, r, type, o, limit, mismatch), to: T.self) }
    if id == ObjectIdentifier(Float.self) { return unsafeBitCast(try get(Float.self, r, type, o, limit, mismatch), to: T.self) }
    if id == ObjectIdentifier(Int8.self) { return unsafeBitCast(try get(Int8.self, r, type, o, limit, mismatch), to: T.self) }
    if id == ObjectIdentifier(Int16.self) { return unsafeBitCast(try get(Int16.self, r, type, o, limit, mismatch), to: T.self) }
    if id == ObjectIdentifier(UInt.self) { return unsafeBitCast(try get(UInt.self, r, type, o, limit, mismatch), to: T.self) }
    if id == ObjectIdentifier(UInt8.self) { return unsafeBitCast(try get(UInt8.self, r, type, o, limit, mismatch), to: T.self) }
    if id == ObjectIdentifier(UInt16.self) { return unsafeBitCast(try get(UInt16.self, r, type, o, limit, mismatch), to: T.self) }
    if id == ObjectIdentifier(UInt32.self) { return unsafeBitCast(try get(UInt32.self, r, type, o, limit, mismatch), to: T.self) }
    if id == ObjectIdentifier(UInt64.self) { return unsafeBitCast(try get(UInt64.self, r, type, o, limit, mismatch), to: T.self) }
    if id == ObjectIdentifier(BSONBinary.self) { return unsafeBitCast(try get(BSONBinary.self, r, type, o, limit, mismatch), to: T.self) }
    if id == ObjectIdentifier(BSONTimestamp.self) { return unsafeBitCast(try get(BSONTimestamp.self, r, type, o, limit, mismatch), to: T.self) }
    if id == ObjectIdentifier(BSONRegularExpression.self) { return unsafeBitCast(try get(BSONRegularExpression.self, r, type, o, limit, mismatch), to: T.self) }
    if type == 0x04 {
        if id == ObjectIdentifier([String].self) { if let v = try [String].readBSON(r, type: type, at: o, limit: limit) { return unsafeBitCast(v, to: T.self) } ; return try decode() }
        if id == ObjectIdentifier([Int].self) { if let v = try [Int].readBSON(r, type: type, at: o, limit: limit) { return unsafeBitCast(v, to: T.self) } ; return try decode() }
        if id == ObjectIdentifier([Double].self) { if let v = try [Double].readBSON(r, type: type, at: o, limit: limit) { return unsafeBitCast(v, to: T.self) } ; return try decode() }
        if id == ObjectIdentifier([ObjectId].self) { if let v = try [ObjectId].readBSON(r, type: type, at: o, limit: limit) { return unsafeBitCast(v, to: T.self) } ; return try decode() }
        if id == ObjectIdentifier([Date].self) { if let v = try [Date].readBSON(r, type: type, at: o, limit: limit) { return unsafeBitCast(v, to: T.self) } ; return try decode() }
        if id == ObjectIdentifier([Int64].self) { if let v = try [Int64].readBSON(r, type: type, at: o, limit: limit) { return unsafeBitCast(v, to: T.self) } ; return try decode() }
        if id == ObjectIdentifier([Int32].self) { if let v = try [Int32].readBSON(r, type: type, at: o, limit: limit) { return unsafeBitCast(v, to: T.self) } ; return try decode() }
        if id == ObjectIdentifier([Bool].self) { if let v = try [Bool].readBSON(r, type: type, at: o, limit: limit) { return unsafeBitCast(v, to: T.self) } ; return try decode() }
        if id == ObjectIdentifier([BSONDocument].self) { if let v = try [BSONDocument].readBSON(r, type: type, at: o, limit: limit) { return unsafeBitCast(v, to: T.self) } ; return try decode() }
        if id == ObjectIdentifier([BSONValue].self) { if let v = try [BSONValue].readBSON(r, type: type, at: o, limit: limit) { return unsafeBitCast(v, to: T.self) } ; return try decode() }
    }
    return try decode()
}
