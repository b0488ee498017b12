import BSON
import Foundation

/// The BSON benchmark's value: a 30-field customer profile of the kind Herald stores.
struct Profile: Codable, Sendable, Equatable {
    struct Address: Codable, Sendable, Equatable {
        var country: String
        var city: String
        var street: String
        var zip: String
    }

    var _id: ObjectId
    var accountId: Int
    var databaseId: Int
    var email: String
    var phone: String
    var firstName: String
    var lastName: String
    var middleName: String?
    var gender: String
    var birthday: Date
    var createdAt: Date
    var updatedAt: Date
    var lastSeenAt: Date?
    var age: Int
    var ordersCount: Int
    var totalSpent: Double
    var averageCheck: Double
    var loyaltyPoints: Int
    var loyaltyLevel: String
    var emailConfirmed: Bool
    var phoneConfirmed: Bool
    var subscribedEmail: Bool
    var subscribedSMS: Bool
    var subscribedPush: Bool
    var language: String
    var timezone: String
    var source: String
    var tags: [String]
    var interests: [String]
    var address: Address

    static func sample(_ i: Int) -> Profile {
        Profile(
            _id: ObjectId(), accountId: 17, databaseId: 3, email: "customer\(i)@example.com", phone: "+4915112345\(i % 1000)",
            firstName: "Анна", lastName: "Müller", middleName: nil, gender: "f",
            birthday: Date(timeIntervalSince1970: 631_152_000), createdAt: Date(timeIntervalSince1970: 1_700_000_000),
            updatedAt: Date(timeIntervalSince1970: 1_700_100_000), lastSeenAt: Date(timeIntervalSince1970: 1_700_200_000),
            age: 35, ordersCount: 12, totalSpent: 1534.75, averageCheck: 127.9, loyaltyPoints: 420, loyaltyLevel: "gold",
            emailConfirmed: true, phoneConfirmed: false, subscribedEmail: true, subscribedSMS: false, subscribedPush: true,
            language: "de", timezone: "Europe/Berlin", source: "import", tags: ["vip", "newsletter", "b2c"],
            interests: ["running", "books"], address: Address(country: "DE", city: "Berlin", street: "Unter den Linden 1", zip: "10117")
        )
    }
}

/// The MongoDB benchmark's row: the same shape the C reference writes with BCON. Read and written
/// field by field (`BSONRepresentable`), as Herald's hot types are.
struct Row: Codable, Sendable, BSONRepresentable {
    var _id: Int64
    var accountId: Int64
    var email: String
    var firstName: String
    var lastName: String
    var age: Int64
    var score: Double
    var active: Bool
    var city: String
    var createdAt: Date

    static func sample(_ k: Int) -> Row {
        let createdAt = Date(timeIntervalSince1970: Double(1_700_000_000_000 + k) / 1000)
        return Row(_id: Int64(k), accountId: 1, email: "user\(k)@example.com", firstName: "Ann", lastName: "Example",
                   age: Int64(k % 90), score: Double(k) * 0.5, active: k % 2 == 1, city: "Berlin", createdAt: createdAt)
    }
}

extension Row {
    func writeBSON(to w: inout BSONFieldWriter) throws {
        try w.write(_id, forKey: "_id")
        try w.write(accountId, forKey: "accountId")
        try w.write(email, forKey: "email")
        try w.write(firstName, forKey: "firstName")
        try w.write(lastName, forKey: "lastName")
        try w.write(age, forKey: "age")
        try w.write(score, forKey: "score")
        try w.write(active, forKey: "active")
        try w.write(city, forKey: "city")
        try w.write(createdAt, forKey: "createdAt")
    }

    init(bson r: inout BSONFieldReader) throws {
        _id = try r.read(Int64.self, forKey: "_id")
        accountId = try r.read(Int64.self, forKey: "accountId")
        email = try r.read(String.self, forKey: "email")
        firstName = try r.read(String.self, forKey: "firstName")
        lastName = try r.read(String.self, forKey: "lastName")
        age = try r.read(Int64.self, forKey: "age")
        score = try r.read(Double.self, forKey: "score")
        active = try r.read(Bool.self, forKey: "active")
        city = try r.read(String.self, forKey: "city")
        createdAt = try r.read(Date.self, forKey: "createdAt")
    }
}
