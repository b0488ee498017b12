import BSON
import Foundation
import Testing

/// A model with both conformances, as Herald's hot types have: the two must agree to the byte.
struct Contact: Codable, Equatable, BSONRepresentable {
    struct Place: Codable, Equatable, BSONRepresentable {
        var city: String
        var zip: String?

        func writeBSON(to w: inout BSONFieldWriter) throws {
            try w.write(city, forKey: "city")
            try w.writeIfPresent(zip, forKey: "zip")
        }

        init(city: String, zip: String?) {
            self.city = city
            self.zip = zip
        }

        init(bson r: inout BSONFieldReader) throws {
            city = try r.read(String.self, forKey: "city")
            zip = try r.readIfPresent(String.self, forKey: "zip")
        }
    }

    var _id: ObjectId
    var email: String
    var visits: Int
    var score: Double
    var vip: Bool
    var createdAt: Date
    var lastSeenAt: Date?
    var tags: [String]
    var balance: Decimal128
    var place: Place

    func writeBSON(to w: inout BSONFieldWriter) throws {
        try w.write(_id, forKey: "_id")
        try w.write(email, forKey: "email")
        try w.write(visits, forKey: "visits")
        try w.write(score, forKey: "score")
        try w.write(vip, forKey: "vip")
        try w.write(createdAt, forKey: "createdAt")
        try w.writeIfPresent(lastSeenAt, forKey: "lastSeenAt")
        try w.write(tags, forKey: "tags")
        try w.write(balance, forKey: "balance")
        try w.write(place, forKey: "place")
    }

    init(_id: ObjectId, email: String, visits: Int, score: Double, vip: Bool, createdAt: Date, lastSeenAt: Date?, tags: [String], balance: Decimal128, place: Place) {
        self._id = _id
        self.email = email
        self.visits = visits
        self.score = score
        self.vip = vip
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.tags = tags
        self.balance = balance
        self.place = place
    }

    init(bson r: inout BSONFieldReader) throws {
        _id = try r.read(ObjectId.self, forKey: "_id")
        email = try r.read(String.self, forKey: "email")
        visits = try r.read(Int.self, forKey: "visits")
        score = try r.read(Double.self, forKey: "score")
        vip = try r.read(Bool.self, forKey: "vip")
        createdAt = try r.read(Date.self, forKey: "createdAt")
        lastSeenAt = try r.readIfPresent(Date.self, forKey: "lastSeenAt")
        tags = try r.read([String].self, forKey: "tags")
        balance = try r.read(Decimal128.self, forKey: "balance")
        place = try r.read(Place.self, forKey: "place")
    }
}

/// The same shape with Codable only, to compare against.
struct PlainContact: Codable, Equatable {
    var _id: ObjectId
    var email: String
    var visits: Int
    var score: Double
    var vip: Bool
    var createdAt: Date
    var lastSeenAt: Date?
    var tags: [String]
    var balance: Decimal128
    var place: PlainPlace
    struct PlainPlace: Codable, Equatable { var city: String; var zip: String? }
}

@Suite("BSONRepresentable")
struct BSONRepresentableTests {
    let contact = Contact(_id: ObjectId(), email: "ann@example.com", visits: 3, score: 4.5, vip: true,
                          createdAt: Date(timeIntervalSince1970: 1_700_000_000.25), lastSeenAt: nil, tags: ["a", "ß"],
                          balance: Decimal128("10.50")!, place: .init(city: "Köln", zip: nil))

    var plain: PlainContact {
        PlainContact(_id: contact._id, email: contact.email, visits: contact.visits, score: contact.score, vip: contact.vip,
                     createdAt: contact.createdAt, lastSeenAt: nil, tags: contact.tags, balance: contact.balance,
                     place: .init(city: "Köln", zip: nil))
    }

    @Test func writesTheSameBytesAsCodable() throws {
        #expect(try BSONEncoder().encode(contact) == BSONEncoder().encode(plain))
    }

    @Test func readsWhatCodableWrote() throws {
        let bytes = try BSONEncoder().encode(plain)
        #expect(try BSONDecoder().decode(Contact.self, from: bytes) == contact)
        #expect(try BSONDecoder().decode(PlainContact.self, from: BSONEncoder().encode(contact)) == plain)
    }

    @Test func readsFieldsInAnyOrder() throws {
        var d = try BSONEncoder().encode(plain)
        let email = d["email"]!
        d["email"] = nil
        d["email"] = email  // now last
        #expect(try BSONDecoder().decode(Contact.self, from: d) == contact)
    }

    @Test func errorsNameTheFieldAndTheTypeFound() throws {
        var d = try BSONEncoder().encode(plain)
        d["visits"] = "three"
        #expect {
            try BSONDecoder().decode(Contact.self, from: d)
        } throws: { error in
            guard case DecodingError.typeMismatch(_, let c) = error else { return false }
            return c.codingPath.map(\.stringValue) == ["visits"] && c.debugDescription == "expected an integer that fits Int but found string"
        }

        var nested = try BSONEncoder().encode(plain)
        nested["place"] = ["zip": "1"]
        #expect {
            try BSONDecoder().decode(Contact.self, from: nested)
        } throws: { error in
            guard case DecodingError.keyNotFound(let key, let c) = error else { return false }
            return key.stringValue == "city" && c.codingPath.map(\.stringValue) == ["place"]
        }

        var tags = try BSONEncoder().encode(plain)
        tags["tags"] = ["a", 2]
        #expect {
            try BSONDecoder().decode(Contact.self, from: tags)
        } throws: { error in
            guard case DecodingError.typeMismatch(_, let c) = error else { return false }
            return c.codingPath.map(\.stringValue) == ["tags", "1"]
        }
    }
}
