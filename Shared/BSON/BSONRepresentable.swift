/// A type that writes and reads its own BSON fields, bypassing `Codable`.
///
/// `Codable` routes every property through type-erased containers, which costs more per field
/// than encoding it. Hot types (profiles, send-log entries) adopt this protocol as well as
/// `Codable`; ``BSONEncoder`` and ``BSONDecoder`` then use it for them, and the results are the same
/// bytes and values. Write the fields in the order they are read: the reader finds each key
/// where the last one ended.
///
/// ```swift
/// extension Address: BSONRepresentable {
///     func writeBSON(to w: inout BSONFieldWriter) throws {
///         try w.write(city, forKey: "city")
///         try w.write(zip, forKey: "zip")
///     }
///     init(bson r: inout BSONFieldReader) throws {
///         city = try r.read(String.self, forKey: "city")
///         zip = try r.readIfPresent(String.self, forKey: "zip")
///     }
/// }
/// ```
package protocol BSONRepresentable {
    /// Writes every field of the value.
    func writeBSON(to writer: inout BSONFieldWriter) throws
    /// Reads the value from a document's fields.
    init(bson reader: inout BSONFieldReader) throws
}

/// Encodable field values a ``BSONFieldWriter`` writes and a ``BSONFieldReader`` reads directly:
/// `String`, `Bool`, `Double`, every integer type, `Date`, `Data`, `UUID`, `Decimal`, ``ObjectId``,
/// ``Decimal128``, ``BSONDocument``, ``BSONValue``, and arrays of these.
package protocol BSONField: Sendable {}

extension String: BSONField {}
extension Bool: BSONField {}
extension Double: BSONField {}
extension Float: BSONField {}
extension Int: BSONField {}
extension Int8: BSONField {}
extension Int16: BSONField {}
extension Int32: BSONField {}
extension Int64: BSONField {}
extension UInt: BSONField {}
extension UInt8: BSONField {}
extension UInt16: BSONField {}
extension UInt32: BSONField {}
extension UInt64: BSONField {}
extension ObjectId: BSONField {}
extension Decimal128: BSONField {}
extension BSONDocument: BSONField {}
extension BSONValue: BSONField {}
extension Array: BSONField where Element: BSONField {}
