import CBSON
import Foundation

/// An IEEE 754-2008 128-bit decimal (BSON type 0x13): exact money and quantities.
///
/// Text conversions use libbson's, so values round-trip with every MongoDB driver.
public struct Decimal128: Sendable, Hashable, CustomStringConvertible, LosslessStringConvertible {
    /// The low 64 bits of the encoding.
    public let low: UInt64
    /// The high 64 bits of the encoding.
    public let high: UInt64

    /// The decimal with this binary encoding.
    public init(low: UInt64, high: UInt64) {
        self.low = low
        self.high = high
    }

    /// Parses decimal text such as `"12.50"`, `"-1E+3"`, `"NaN"` or `"Infinity"`; `nil` when it is not a number.
    public init?(_ text: String) {
        var value = bson_decimal128_t()
        guard bson_decimal128_from_string(text, &value) else { return nil }
        low = value.low
        high = value.high
    }

    /// The exact value of a Foundation `Decimal`.
    public init(_ decimal: Decimal) {
        // Decimal's description is a plain decimal literal, which libbson parses exactly.
        self.init(decimal.description)!
    }

    public var description: String {
        var value = bson_decimal128_t(low: low, high: high)
        var buffer = [CChar](repeating: 0, count: Int(BSON_DECIMAL128_STRING))
        bson_decimal128_to_string(&value, &buffer)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The value as a Foundation `Decimal`, when it is finite and fits.
    public var decimalValue: Decimal? {
        Decimal(string: description)
    }
}

extension Decimal128: Codable {
    /// Outside BSON a Decimal128 is its exact decimal text.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let d = Decimal128(s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(s)' is not a decimal number")
        }
        self = d
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
