import BSON
import Foundation
import Testing

struct Address: Codable, Equatable {
    var city: String
    var zip: String?
    var lines: [String]
}

struct Everything: Codable, Equatable {
    var id: ObjectId
    var int32: Int32
    var int64: Int64
    var int: Int
    var small: Int8
    var unsigned: UInt16
    var double: Double
    var float: Float
    var flag: Bool
    var name: String
    var date: Date
    var data: Data
    var uuid: UUID
    var price: Decimal128
    var amount: Decimal
    var optionalPresent: String?
    var optionalAbsent: String?
    var address: Address
    var history: [Address]
    var matrix: [[Int]]
    var tags: Set<String>
    var attributes: [String: Int]
    var raw: BSONDocument
    var any: BSONValue
}

@Suite("BSON Codable")
struct BSONCodableTests {
    let sample = Everything(
        id: ObjectId(),
        int32: -2_147_483_648,
        int64: 9_007_199_254_740_993,
        int: Int.max,
        small: -128,
        unsigned: 65535,
        double: 3.141592653589793,
        float: 1.5,
        flag: true,
        name: "Ünïcødé — 日本語 🚀",
        date: Date(timeIntervalSince1970: 1_700_000_000.123),
        data: Data([0, 1, 2, 255]),
        uuid: UUID(),
        price: Decimal128("12345678901234567890.1234")!,
        amount: Decimal(string: "19.99")!,
        optionalPresent: "here",
        optionalAbsent: nil,
        address: Address(city: "Москва", zip: nil, lines: ["a", "b"]),
        history: [Address(city: "Berlin", zip: "10115", lines: [])],
        matrix: [[1, 2], [], [3]],
        tags: ["vip"],
        attributes: ["visits": 3],
        raw: ["nested": ["x": 1]],
        any: .array([1, "two", .null, .bool(false)])
    )

    @Test func roundTripsEveryType() throws {
        let document = try BSONEncoder().encode(sample)
        let decoded = try BSONDecoder().decode(Everything.self, from: document)
        #expect(decoded == sample)
    }

    @Test func writesTheSpecifiedBSONTypes() throws {
        let d = try BSONEncoder().encode(sample)
        #expect(d["int32"] == .int32(-2_147_483_648))
        #expect(d["int64"] == .int64(9_007_199_254_740_993))
        #expect(d["int"] == .int64(Int64.max))
        #expect(d["small"] == .int32(-128))
        #expect(d["date"] == .datetime(1_700_000_000_123))
        #expect(d["id"] == .objectId(sample.id))
        #expect(d["data"] == .binary(BSONBinary(subtype: .generic, bytes: [0, 1, 2, 255])))
        #expect(d["price"]?.description.contains("12345678901234567890.1234") == true)
        #expect(d["amount"] == .decimal128(Decimal128("19.99")!))
        #expect(d["optionalAbsent"] == nil, "a nil optional is left out")
        #expect(d["address"]?.documentValue?["zip"] == nil)
        #expect(d["matrix"] == [[1, 2], [], [3]].map { BSONValue.array($0.map { .int64(Int64($0)) }) }.asArray)
        #expect(d.keys.first == "id", "keys keep their declaration order")
    }

    @Test func bytesMatchLibbson() throws {
        // {"a": 1, "b": "x"} written by hand per bsonspec.org.
        let doc: BSONDocument = ["a": .int32(1), "b": "x"]
        #expect(doc.bytes == [0x15, 0, 0, 0, 0x10, 0x61, 0, 1, 0, 0, 0, 0x02, 0x62, 0, 2, 0, 0, 0, 0x78, 0, 0])
        #expect(doc.description == #"{ "a" : 1, "b" : "x" }"#)
    }

    @Test func documentsValidateTheirBytes() throws {
        let good: BSONDocument = ["k": ["nested": [1, 2, 3]]]
        #expect(try BSONDocument(bytes: good.bytes) == good)
        var truncated = good.bytes
        truncated.removeLast(3)
        #expect(throws: BSONError.self) { try BSONDocument(bytes: truncated) }
        var badType = good.bytes
        badType[4] = 0x42
        #expect(throws: BSONError.self) { try BSONDocument(bytes: badType) }
    }

    @Test func decodingConvertsNumbersWithoutLoss() throws {
        struct Numbers: Codable { var a: Int; var b: Double; var c: Int32 }
        let d: BSONDocument = ["a": .double(42), "b": .int32(7), "c": .int64(9)]
        let n = try BSONDecoder().decode(Numbers.self, from: d)
        #expect(n.a == 42 && n.b == 7 && n.c == 9)

        let lossy: BSONDocument = ["a": .double(1.5), "b": 1, "c": 1]
        #expect(throws: DecodingError.self) { try BSONDecoder().decode(Numbers.self, from: lossy) }
        let overflow: BSONDocument = ["a": 1, "b": 1, "c": .int64(Int64(Int32.max) + 1)]
        #expect(throws: DecodingError.self) { try BSONDecoder().decode(Numbers.self, from: overflow) }
    }

    @Test func mismatchesNameThePathAndTheTypeFound() throws {
        let d: BSONDocument = ["city": "Paris", "lines": ["a", 5]]
        do {
            _ = try BSONDecoder().decode(Address.self, from: d)
            Issue.record("decoding should fail")
        } catch DecodingError.typeMismatch(_, let context) {
            #expect(context.codingPath.map(\.stringValue) == ["lines", "1"])
            #expect(context.debugDescription == "expected a string but found int32")
        }
        let missing: BSONDocument = ["zip": "1"]
        #expect {
            try BSONDecoder().decode(Address.self, from: missing)
        } throws: { error in
            guard case DecodingError.keyNotFound(let key, _) = error else { return false }
            return key.stringValue == "city"
        }
    }

    @Test func fieldsDecodeInAnyOrder() throws {
        let d: BSONDocument = ["lines": [], "zip": .null, "extra": true, "city": "Oslo"]
        let a = try BSONDecoder().decode(Address.self, from: d)
        #expect(a == Address(city: "Oslo", zip: nil, lines: []))
    }

    @Test func topLevelMustBeADocument() {
        #expect(throws: EncodingError.self) { try BSONEncoder().encode([1, 2, 3]) }
        #expect(throws: EncodingError.self) { try BSONEncoder().encode("text") }
    }

    @Test func keysWithNulAreRejected() {
        #expect(throws: (any Error).self) { try BSONEncoder().encode(["a\0b": 1]) }
    }

    @Test func nestedContainersAndInheritance() throws {
        class Base: Codable { var base = 1 }
        final class Child: Base {
            var child = "c"
            override init() { super.init() }
            enum K: String, CodingKey { case child, meta }
            required init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: K.self)
                child = try c.decode(String.self, forKey: .child)
                let meta = try c.nestedContainer(keyedBy: K.self, forKey: .meta)
                _ = try meta.decode(String.self, forKey: .child)
                try super.init(from: decoder)
            }
            override func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: K.self)
                try c.encode(child, forKey: .child)
                var meta = c.nestedContainer(keyedBy: K.self, forKey: .meta)
                try meta.encode("inner", forKey: .child)
                try super.encode(to: encoder)
            }
        }
        let d = try BSONEncoder().encode(Child())
        #expect(d.keys == ["child", "meta", "base"])
        #expect(d["meta"] == ["child": "inner"])
        let back = try BSONDecoder().decode(Child.self, from: d)
        #expect(back.child == "c" && back.base == 1)
    }

    @Test func objectIdsAreUniqueOrderedAndParse() {
        let a = ObjectId(), b = ObjectId()
        #expect(a != b)
        #expect(a < b)
        #expect(ObjectId(a.hex) == a)
        #expect(ObjectId("not-hex") == nil)
    }

    @Test func decimal128TextRoundTrips() {
        for text in ["0", "-1.50", "1E+6144", "NaN", "Infinity", "0.000001"] {
            #expect(Decimal128(text) != nil, "\(text)")
        }
        #expect(Decimal128("12.50")?.description == "12.50")
        #expect(Decimal128("twelve") == nil)
    }
}

extension Array where Element == BSONValue {
    var asArray: BSONValue { .array(self) }
}
