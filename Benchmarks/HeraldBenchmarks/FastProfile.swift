import BSON
import Foundation

/// The same profile, read and written through `BSONRepresentable` instead of `Codable`: what a hot
/// model type in Herald does. Same bytes, same values (checked before measuring).
struct FastProfile: Codable, Sendable, Equatable, BSONRepresentable {
    var profile: Profile

    init(_ profile: Profile) { self.profile = profile }
    init(from decoder: any Decoder) throws { profile = try Profile(from: decoder) }
    func encode(to encoder: any Encoder) throws { try profile.encode(to: encoder) }

    func writeBSON(to w: inout BSONFieldWriter) throws {
        let p = profile
        try w.write(p._id, forKey: "_id")
        try w.write(p.accountId, forKey: "accountId")
        try w.write(p.databaseId, forKey: "databaseId")
        try w.write(p.email, forKey: "email")
        try w.write(p.phone, forKey: "phone")
        try w.write(p.firstName, forKey: "firstName")
        try w.write(p.lastName, forKey: "lastName")
        try w.writeIfPresent(p.middleName, forKey: "middleName")
        try w.write(p.gender, forKey: "gender")
        try w.write(p.birthday, forKey: "birthday")
        try w.write(p.createdAt, forKey: "createdAt")
        try w.write(p.updatedAt, forKey: "updatedAt")
        try w.writeIfPresent(p.lastSeenAt, forKey: "lastSeenAt")
        try w.write(p.age, forKey: "age")
        try w.write(p.ordersCount, forKey: "ordersCount")
        try w.write(p.totalSpent, forKey: "totalSpent")
        try w.write(p.averageCheck, forKey: "averageCheck")
        try w.write(p.loyaltyPoints, forKey: "loyaltyPoints")
        try w.write(p.loyaltyLevel, forKey: "loyaltyLevel")
        try w.write(p.emailConfirmed, forKey: "emailConfirmed")
        try w.write(p.phoneConfirmed, forKey: "phoneConfirmed")
        try w.write(p.subscribedEmail, forKey: "subscribedEmail")
        try w.write(p.subscribedSMS, forKey: "subscribedSMS")
        try w.write(p.subscribedPush, forKey: "subscribedPush")
        try w.write(p.language, forKey: "language")
        try w.write(p.timezone, forKey: "timezone")
        try w.write(p.source, forKey: "source")
        try w.write(p.tags, forKey: "tags")
        try w.write(p.interests, forKey: "interests")
        try w.write(p.address, forKey: "address")
    }

    init(bson r: inout BSONFieldReader) throws {
        profile = Profile(
            _id: try r.read(ObjectId.self, forKey: "_id"),
            accountId: try r.read(Int.self, forKey: "accountId"),
            databaseId: try r.read(Int.self, forKey: "databaseId"),
            email: try r.read(String.self, forKey: "email"),
            phone: try r.read(String.self, forKey: "phone"),
            firstName: try r.read(String.self, forKey: "firstName"),
            lastName: try r.read(String.self, forKey: "lastName"),
            middleName: try r.readIfPresent(String.self, forKey: "middleName"),
            gender: try r.read(String.self, forKey: "gender"),
            birthday: try r.read(Date.self, forKey: "birthday"),
            createdAt: try r.read(Date.self, forKey: "createdAt"),
            updatedAt: try r.read(Date.self, forKey: "updatedAt"),
            lastSeenAt: try r.readIfPresent(Date.self, forKey: "lastSeenAt"),
            age: try r.read(Int.self, forKey: "age"),
            ordersCount: try r.read(Int.self, forKey: "ordersCount"),
            totalSpent: try r.read(Double.self, forKey: "totalSpent"),
            averageCheck: try r.read(Double.self, forKey: "averageCheck"),
            loyaltyPoints: try r.read(Int.self, forKey: "loyaltyPoints"),
            loyaltyLevel: try r.read(String.self, forKey: "loyaltyLevel"),
            emailConfirmed: try r.read(Bool.self, forKey: "emailConfirmed"),
            phoneConfirmed: try r.read(Bool.self, forKey: "phoneConfirmed"),
            subscribedEmail: try r.read(Bool.self, forKey: "subscribedEmail"),
            subscribedSMS: try r.read(Bool.self, forKey: "subscribedSMS"),
            subscribedPush: try r.read(Bool.self, forKey: "subscribedPush"),
            language: try r.read(String.self, forKey: "language"),
            timezone: try r.read(String.self, forKey: "timezone"),
            source: try r.read(String.self, forKey: "source"),
            tags: try r.read([String].self, forKey: "tags"),
            interests: try r.read([String].self, forKey: "interests"),
            address: try r.read(Profile.Address.self, forKey: "address")
        )
    }
}

extension Profile.Address: BSONRepresentable {
    func writeBSON(to w: inout BSONFieldWriter) throws {
        try w.write(country, forKey: "country")
        try w.write(city, forKey: "city")
        try w.write(street, forKey: "street")
        try w.write(zip, forKey: "zip")
    }

    init(bson r: inout BSONFieldReader) throws {
        self.init(country: try r.read(String.self, forKey: "country"), city: try r.read(String.self, forKey: "city"),
                  street: try r.read(String.self, forKey: "street"), zip: try r.read(String.self, forKey: "zip"))
    }
}
