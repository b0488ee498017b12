import BSON
import CustomerData
import Foundation
import Testing

@Suite struct FieldValueParserTests {
    static func parse(_ input: FieldInput, _ type: FieldType, options: [String] = [], columns: [FieldDefinition] = []) -> Result<BSONValue, FieldValueParser.Failure> {
        FieldValueParser.parse(input, as: FieldDefinition(key: "f", title: "F", type: type, options: options, columns: columns))
    }

    static func value(_ input: FieldInput, _ type: FieldType, options: [String] = [], columns: [FieldDefinition] = []) -> BSONValue? {
        try? parse(input, type, options: options, columns: columns).get()
    }

    @Test func everyTypeAcceptsItsUsualSpellingsAndStoresOneForm() {
        #expect(Self.value(.text("  Anna "), .string) == .string("Anna"))
        #expect(Self.value(.text("1 000"), .integer) == .int64(1000))
        #expect(Self.value(.number(42), .integer) == .int64(42))
        #expect(Self.value(.text("1 234,50"), .decimal) == .double(1234.5))
        #expect(Self.value(.number(0.1), .decimal) == .double(0.1))
        #expect(Self.value(.text("да"), .boolean) == .bool(true))
        #expect(Self.value(.text("No"), .boolean) == .bool(false))
        #expect(Self.value(.bool(true), .boolean) == .bool(true))
        #expect(Self.value(.text("01.03.2024"), .date) == .string("2024-03-01"))
        #expect(Self.value(.text("2024-03-01T10:00:00Z"), .date) == .string("2024-03-01"))
        #expect(Self.value(.text("2024-03-01T09:30:00+03:00"), .dateTime) == .date(Date(timeIntervalSince1970: 1_709_274_600)))
        #expect(Self.value(.text("2024-03-01 06:30"), .dateTime) == .date(Date(timeIntervalSince1970: 1_709_274_600)))
        #expect(Self.value(.text(" Anna@Example.COM "), .email) == .string("anna@example.com"))
        #expect(Self.value(.text("+7 (912) 345-67-89"), .phone) == .string("+79123456789"))
        #expect(Self.value(.text("0049 30 123456"), .phone) == .string("+4930123456"))
        #expect(Self.value(.text("gold"), .enumeration, options: ["Silver", "Gold"]) == .string("Gold"))
        #expect(Self.value(.text("ski; tennis ;"), .stringList) == .array(["ski", "tennis"]))
        #expect(Self.value(.list([.text("a"), .number(2)]), .stringList) == .array(["a", "2"]))
        let columns = [FieldDefinition(key: "sku", title: "SKU", type: .string, required: true), FieldDefinition(key: "sum", title: "Sum", type: .decimal)]
        #expect(Self.value(.text(#"[{"sku":"A1","sum":"9,90"}]"#), .table, columns: columns) == .array([.document(["sku": "A1", "sum": .double(9.9)])]))
    }

    @Test func badValuesAreRefusedWithAReasonThatSaysHowToFixIt() {
        func message(_ input: FieldInput, _ type: FieldType, options: [String] = [], columns: [FieldDefinition] = []) -> String? {
            if case .failure(let failure) = Self.parse(input, type, options: options, columns: columns) { return failure.message }
            return nil
        }
        #expect(message(.text("12a"), .integer) == "'12a' is not a whole number")
        #expect(message(.text("1.5"), .integer) == "'1.5' is not a whole number")
        #expect(message(.text("abc"), .decimal) == "'abc' is not a number (use 1234.56 or 1234,56)")
        #expect(message(.text("maybe"), .boolean)?.hasPrefix("'maybe' is not yes or no") == true)
        #expect(message(.text("31.02.2024"), .date) == "not a date; use YYYY-MM-DD or DD.MM.YYYY")
        #expect(message(.text("anna@"), .email) == "'anna@' is not an e-mail address")
        #expect(message(.text("anna@example"), .email) == "'anna@example' is not an e-mail address")
        #expect(message(.text("8 912 345 67 89"), .phone)?.contains("international form") == true)
        #expect(message(.text("bronze"), .enumeration, options: ["Silver", "Gold"]) == "'bronze' is not one of: Silver, Gold")
        let columns = [FieldDefinition(key: "sku", title: "SKU", type: .string, required: true)]
        #expect(message(.list([.object(["sku": .text("A")]), .object(["price": .number(1)])]), .table, columns: columns) ==
            "row 2 has the column 'price', which the table does not define")
        if case .failure(let failure) = Self.parse(.list([.object([:])]), .table, columns: columns) {
            #expect(failure.field == "f[1].sku" && failure.message == "a value is required")
        } else {
            Issue.record("a missing required column was accepted")
        }
        let required = FieldDefinition(key: "email", title: "E-mail", type: .email, required: true)
        #expect(FieldValueParser.parse(.text(" "), as: required) == .failure(.init(field: "email", message: "a value is required")))
        #expect(FieldValueParser.parse(.text(" "), as: FieldDefinition(key: "x", title: "X", type: .email)) == .success(.null))
    }

    @Test func schemasAreCheckedBeforeTheyAreUsed() {
        var database = ProfileDatabase(accountId: "a", name: "Main", fields: ProfileDatabase.defaultFields)
        #expect(database.schemaProblems().isEmpty)
        database.fields.append(FieldDefinition(key: "Bad Key", title: "x", type: .string))
        database.fields.append(FieldDefinition(key: "level", title: "Level", type: .enumeration))
        database.fields.append(FieldDefinition(key: "paid", title: "Paid", type: .boolean, unique: true))
        database.fields.append(FieldDefinition(key: "email", title: "Again", type: .email))
        #expect(database.schemaProblems().map(\.field) == ["Bad Key", "level", "paid", "email"])
    }
}

@Suite struct FastDateTimeTests {
    @Test(arguments: ["2024-03-01T09:30:00Z", "2024-03-01T12:30:00+03:00", "2024-03-01T04:30:00-0500", "2024-03-01 09:30:00", "2024-03-01T09:30:00.250Z",
                      "2000-02-29T00:00:00Z", "1969-12-31T23:59:59Z"])
    func agreesWithTheFormatters(_ text: String) {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        let expected = plain.date(from: text) ?? formatter.date(from: text)
            ?? plain.date(from: text.replacingOccurrences(of: " ", with: "T") + "Z")
        let parsed = FieldValueParser.parse(.text(text), as: FieldDefinition(key: "t", title: "T", type: .dateTime))
        #expect((try? parsed.get())?.dateValue == expected, "\(text)")
    }

    @Test func impossibleDatesAreRefused() {
        for text in ["2024-02-30T00:00:00Z", "2023-02-29T10:00:00Z", "2024-13-01T00:00:00Z", "2024-04-31T00:00:00Z", "2024-03-01T25:00:00Z"] {
            #expect(FieldValueParser.parseDateTimePublic(text) == nil, "\(text)")
        }
    }
}
