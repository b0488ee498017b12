import BSON
import CMongoC

/// A reply document that libmongoc fills in; freed when the value goes away.
struct Reply: ~Copyable {
    let pointer: OpaquePointer

    init() { pointer = herald_mongoc_new_reply() }

    var document: BSONDocument { BSONDocument(copying: pointer) }

    deinit { bson_destroy(pointer) }
}
