/// The encodings imported text files come in: UTF-8 (with or without a byte-order mark) and the
/// Windows code page Russian spreadsheets still save CSV in.
public enum ImportTextEncoding: String, Sendable {
    case utf8
    case windows1251

    /// UTF-8 when the sample is valid UTF-8 (a sequence cut at the end of the sample is allowed),
    /// Windows-1251 otherwise.
    public static func detect(_ sample: ArraySlice<UInt8>) -> ImportTextEncoding {
        var i = sample.startIndex
        while i < sample.endIndex {
            let b = sample[i]
            let length: Int
            switch b {
            case 0x00...0x7F: length = 1
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: return .windows1251
            }
            if i + length > sample.endIndex { return .utf8 }  // cut by the sample
            for k in 1..<length where sample[i + k] & 0xC0 != 0x80 { return .windows1251 }
            i += length
        }
        return .utf8
    }

    /// Windows-1251 bytes 0x80…0xFF as Unicode scalars.
    static let windows1251High: [UInt32] = [
        0x0402, 0x0403, 0x201A, 0x0453, 0x201E, 0x2026, 0x2020, 0x2021, 0x20AC, 0x2030, 0x0409, 0x2039, 0x040A, 0x040C, 0x040B, 0x040F,
        0x0452, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0xFFFD, 0x2122, 0x0459, 0x203A, 0x045A, 0x045C, 0x045B, 0x045F,
        0x00A0, 0x040E, 0x045E, 0x0408, 0x00A4, 0x0490, 0x00A6, 0x00A7, 0x0401, 0x00A9, 0x0404, 0x00AB, 0x00AC, 0x00AD, 0x00AE, 0x0407,
        0x00B0, 0x00B1, 0x0406, 0x0456, 0x0491, 0x00B5, 0x00B6, 0x00B7, 0x0451, 0x2116, 0x0454, 0x00BB, 0x0458, 0x0405, 0x0455, 0x0457,
    ] + (0x0410...0x044F).map { UInt32($0) }

    /// Decodes `bytes` as this encoding.
    public func decode(_ bytes: ArraySlice<UInt8>) -> String {
        switch self {
        case .utf8:
            return String(decoding: bytes, as: UTF8.self)
        case .windows1251:
            var scalars = String.UnicodeScalarView()
            for b in bytes {
                let value = b < 0x80 ? UInt32(b) : Self.windows1251High[Int(b) - 0x80]
                scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            }
            return String(scalars)
        }
    }
}
