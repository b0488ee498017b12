import BSON
import CustomerData
import Foundation
import Templates

/// Template values from stored data: a profile as `profile` (its fields by key — a table field a
/// list of rows — plus `id` and `subscriptions`), BSON values, and JSON answers of sources.
public enum TemplateData {
    public static func profile(_ profile: Profile) -> TemplateValue {
        var object: [String: TemplateValue] = [:]
        for (key, value) in profile.fields { object[key] = self.value(value) }
        object["id"] = .string(profile._id)
        object["subscriptions"] = .array(profile.subscriptions.map { subscription in
            .object(["channel": .string(subscription.channel.rawValue), "address": .string(subscription.address),
                     "status": .string(subscription.status.rawValue), "resource": .string(subscription.resource)])
        })
        return .object(object)
    }

    /// A stored value: dates as ISO 8601 text (the `date` filter reads it), documents as objects.
    public static func value(_ value: BSONValue) -> TemplateValue {
        switch value {
        case .null: .null
        case .bool(let flag): .bool(flag)
        case .int32(let n): .int(Int(n))
        case .int64(let n): .int(Int(n))
        case .double(let n): .double(n)
        case .string(let text): .string(text)
        case .datetime: .string(value.dateValue.map { $0.formatted(.iso8601) } ?? "")
        case .array(let items): .array(items.map(self.value))
        case .document(let document): .object(Dictionary(document.map { ($0.key, self.value($0.value)) }, uniquingKeysWith: { first, _ in first }))
        default: .string(StoredValueText.text(value))
        }
    }

    /// A value parsed from JSON (`JSONSerialization`'s objects).
    public static func json(_ object: Any?) -> TemplateValue {
        switch object {
        case nil, is NSNull: return .null
        case let text as String: return .string(text)
        case let number as NSNumber:
            if String(cString: number.objCType) == "c" { return .bool(number.boolValue) }
            let double = number.doubleValue
            return double.rounded() == double && abs(double) < 1e15 ? .int(Int(double)) : .double(double)
        case let list as [Any]: return .array(list.map(json))
        case let dictionary as [String: Any]: return .object(dictionary.mapValues(json))
        default: return .null
        }
    }

    /// JSON text as a value; nil when it is not JSON.
    public static func json(text: String) -> TemplateValue? {
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return .null }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else { return nil }
        return json(object)
    }
}
