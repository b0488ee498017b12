import BSON
import CustomerData
import Foundation

/// A small profile database to look around in, made on the first run when `control.demo.data`
/// is on (`make run` turns it on): customers with subscriptions, orders, relations and activity.
enum DemoData {
    static let names = [("Anna", "Ivanova", "Moscow"), ("Boris", "Petrov", "Perm"), ("Clara", "Schmidt", "Köln"), ("David", "Olsen", "Oslo"),
                        ("Elena", "Smirnova", "Kazan"), ("Farid", "Aliyev", "Baku"), ("Greta", "Berg", "Bergen"), ("Hugo", "Laurent", "Lyon"),
                        ("Irina", "Volkova", "Samara"), ("Jonas", "Weber", "Berlin"), ("Kira", "Orlova", "Tver"), ("Lars", "Nilsen", "Molde")]

    static func create(in account: Account, customers: CustomerDataService) async throws {
        var fields = ProfileDatabase.defaultFields
        fields += [
            FieldDefinition(key: "city", title: "City", type: .string, indexed: true),
            FieldDefinition(key: "birthday", title: "Birthday", type: .date),
            FieldDefinition(key: "loyalty", title: "Loyalty level", type: .enumeration, options: ["basic", "silver", "gold"]),
            FieldDefinition(key: "spent", title: "Spent", type: .decimal),
            FieldDefinition(key: "interests", title: "Interests", type: .stringList),
            FieldDefinition(key: "orders", title: "Orders", type: .table, columns: [
                FieldDefinition(key: "number", title: "Number", type: .string), FieldDefinition(key: "sum", title: "Sum", type: .decimal),
                FieldDefinition(key: "date", title: "Date", type: .date),
            ]),
        ]
        let database = ProfileDatabase(accountId: account._id, name: "Demo customers", description: "made on the first run of make run", fields: fields)
        try await customers.databases.insertOne(database)
        try await customers.profiles.prepare(database)
        var rows: [ProfileWriter.Row] = []
        for (index, (first, last, city)) in names.enumerated() {
            let email = "\(first.lowercased()).\(last.lowercased())@example.com"
            let values: [(String, BSONValue)] = [
                ("email", .string(email)), ("phone", .string("+4790000\(String(format: "%03d", index))")), ("external_id", .string("CRM-\(1000 + index)")),
                ("first_name", .string(first)), ("last_name", .string(last)), ("city", .string(city)),
                ("birthday", .string(String(format: "19%02d-%02d-%02d", 60 + index * 3, 1 + index % 12, 1 + index * 2))),
                ("loyalty", .string(["basic", "silver", "gold"][index % 3])), ("spent", .double(Double(index * 137) + 0.5)),
                ("interests", .array([["travel", "sport"], ["books"], ["music", "food", "travel"]][index % 3].map { .string($0) })),
                ("orders", .array((0..<(index % 4)).map { n in
                    .document(["number": .string("A-\(index)\(n)"), "sum": .double(Double(19 + n * 30) + 0.9), "date": .string("2024-0\(1 + n)-1\(n)")])
                })),
            ]
            rows.append(ProfileWriter.Row(line: index + 1, values: values, subscriptions: [
                Subscription(channel: .email, address: email, status: index % 5 == 4 ? .unsubscribed : .active, resource: "news"),
                Subscription(channel: .sms, address: "+4790000\(String(format: "%03d", index))"),
            ]))
        }
        let outcomes = try await customers.writer.write(rows, to: database, mode: .add, source: "demo")
        let ids = outcomes.compactMap(\.profileId)
        var events: [ActivityEvent] = []
        for (index, id) in ids.enumerated() {
            for (offset, kind) in ["site.visit", "message.opened", "order.paid"].enumerated() where (index + offset) % 2 == 0 {
                events.append(ActivityEvent(accountId: account._id, databaseId: database._id, profileId: id,
                                            at: Date().addingTimeInterval(-Double((index + 1) * (offset + 1)) * 3600), kind: kind, source: "demo",
                                            properties: kind == "order.paid" ? ["sum": .double(49.9)] : ["url": "/catalog"]))
            }
        }
        try await customers.profiles.record(events)
        if ids.count > 3 {
            try await customers.profiles.relations.insertMany([
                ProfileRelation(accountId: account._id, databaseId: database._id, fromId: ids[0], toId: ids[1], kind: "family"),
                ProfileRelation(accountId: account._id, databaseId: database._id, fromId: ids[2], toId: ids[3], kind: "referrer"),
            ])
        }
    }
}
