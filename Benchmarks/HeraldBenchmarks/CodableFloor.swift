import BSON
import Foundation

/// An encoder and a decoder that go through every Codable call a real one makes and do nothing
/// else: no bytes written, no bytes read. What they reach is the ceiling for any Codable-based
/// codec on this machine, printed beside the BSON result so that its gap can be read honestly.
enum CodableFloor {
    static func encode<T: Encodable>(_ value: T) throws { try value.encode(to: NullEncoder()) }
    static func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: NullDecoder()) }
}

private struct NullEncoder: Encoder {
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> { KeyedEncodingContainer(Keyed<Key>()) }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { Unkeyed() }
    func singleValueContainer() -> any SingleValueEncodingContainer { Single() }

    final class Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        var codingPath: [any CodingKey] { [] }
        func encodeNil(forKey key: Key) {}
        func encode(_ value: String, forKey key: Key) { _ = key.stringValue }
        func encode(_ value: Bool, forKey key: Key) { _ = key.stringValue }
        func encode(_ value: Int, forKey key: Key) { _ = key.stringValue }
        func encode(_ value: Double, forKey key: Key) { _ = key.stringValue }
        func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            _ = key.stringValue
            if T.self == Date.self || T.self == ObjectId.self || T.self == [String].self { return }
            try value.encode(to: NullEncoder())
        }
        func nestedContainer<N: CodingKey>(keyedBy keyType: N.Type, forKey key: Key) -> KeyedEncodingContainer<N> { KeyedEncodingContainer(Keyed<N>()) }
        func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { Unkeyed() }
        func superEncoder() -> any Encoder { NullEncoder() }
        func superEncoder(forKey key: Key) -> any Encoder { NullEncoder() }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        var codingPath: [any CodingKey] { [] }
        var count = 0
        mutating func encodeNil() { count += 1 }
        mutating func encode<T: Encodable>(_ value: T) throws { count += 1 }
        mutating func nestedContainer<N: CodingKey>(keyedBy keyType: N.Type) -> KeyedEncodingContainer<N> { KeyedEncodingContainer(Keyed<N>()) }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { Unkeyed() }
        mutating func superEncoder() -> any Encoder { NullEncoder() }
    }

    struct Single: SingleValueEncodingContainer {
        var codingPath: [any CodingKey] { [] }
        mutating func encodeNil() {}
        mutating func encode<T: Encodable>(_ value: T) throws {}
    }
}

private struct NullDecoder: Decoder {
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedDecodingContainer<Key> { KeyedDecodingContainer(Keyed<Key>()) }
    func unkeyedContainer() -> any UnkeyedDecodingContainer { Unkeyed() }
    func singleValueContainer() -> any SingleValueDecodingContainer { Single() }

    /// The value a field gets: every primitive the benchmark's profile uses, else its own init(from:).
    static func value<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == String.self { return "" as! T }
        if T.self == Date.self { return Date(timeIntervalSince1970: 0) as! T }
        if T.self == ObjectId.self { return ObjectId(bytes: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)) as! T }
        if T.self == [String].self { return [String]() as! T }
        return try T(from: NullDecoder())
    }

    final class Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        var codingPath: [any CodingKey] { [] }
        var allKeys: [Key] { [] }
        func contains(_ key: Key) -> Bool { !key.stringValue.isEmpty }
        func decodeNil(forKey key: Key) -> Bool { false }
        func decode(_ type: String.Type, forKey key: Key) -> String { _ = key.stringValue; return "" }
        func decode(_ type: Bool.Type, forKey key: Key) -> Bool { _ = key.stringValue; return false }
        func decode(_ type: Int.Type, forKey key: Key) -> Int { _ = key.stringValue; return 0 }
        func decode(_ type: Double.Type, forKey key: Key) -> Double { _ = key.stringValue; return 0 }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { _ = key.stringValue; return try NullDecoder.value(type) }
        func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) -> KeyedDecodingContainer<N> { KeyedDecodingContainer(Keyed<N>()) }
        func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedDecodingContainer { Unkeyed() }
        func superDecoder() -> any Decoder { NullDecoder() }
        func superDecoder(forKey key: Key) -> any Decoder { NullDecoder() }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        var codingPath: [any CodingKey] { [] }
        var count: Int? { 0 }
        var isAtEnd: Bool { true }
        var currentIndex: Int { 0 }
        mutating func decodeNil() -> Bool { true }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try NullDecoder.value(type) }
        mutating func nestedContainer<N: CodingKey>(keyedBy type: N.Type) -> KeyedDecodingContainer<N> { KeyedDecodingContainer(Keyed<N>()) }
        mutating func nestedUnkeyedContainer() -> any UnkeyedDecodingContainer { Unkeyed() }
        mutating func superDecoder() -> any Decoder { NullDecoder() }
    }

    struct Single: SingleValueDecodingContainer {
        var codingPath: [any CodingKey] { [] }
        func decodeNil() -> Bool { false }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try NullDecoder.value(type) }
    }
}
