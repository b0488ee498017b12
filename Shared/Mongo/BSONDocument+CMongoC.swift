import BSON
import CMongoC

extension BSONDocument {
    /// Calls `body` with a read-only `bson_t *` over this document's bytes, valid only inside `body`.
    func withBSONPointer<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBufferPointer { buffer in
            // The bytes of a BSONDocument are always a complete document, so the view cannot fail.
            let view = herald_mongoc_view(buffer.baseAddress, buffer.count)!
            defer { herald_mongoc_view_free(view) }
            return try body(view)
        }
    }

    /// A copy of the document libbson holds at `pointer`.
    init(copying pointer: OpaquePointer) {
        let data = bson_get_data(pointer)!
        let length = Int(UInt32(littleEndian: UnsafeRawPointer(data).loadUnaligned(as: UInt32.self)))
        self.init(trustedBytes: Array(UnsafeBufferPointer(start: data, count: length)))
    }
}

/// Decodes the document libbson holds at `pointer`, without copying it first.
func decodeDocument<T: Decodable>(_ type: T.Type, at pointer: OpaquePointer, decoder: BSONDecoder) throws -> T {
    let data = bson_get_data(pointer)!
    let length = Int(UInt32(littleEndian: UnsafeRawPointer(data).loadUnaligned(as: UInt32.self)))
    do {
        return try decoder.decode(type, from: UnsafeRawBufferPointer(start: data, count: length))
    } catch let error as DecodingError {
        throw MongoError(.decoding, message: "a stored document is not a valid \(T.self): \(error.readableDescription)")
    }
}

extension DecodingError {
    /// "path.to.field: what was expected", for error messages.
    var readableDescription: String {
        let (path, text): ([any CodingKey], String) = switch self {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): (c.codingPath, c.debugDescription)
        case .keyNotFound(let k, let c): (c.codingPath + [k], c.debugDescription)
        @unknown default: ([], "\(self)")
        }
        let where_ = path.map(\.stringValue).joined(separator: ".")
        return where_.isEmpty ? text : "\(where_): \(text)"
    }
}
