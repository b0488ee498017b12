/// How an SMS text is encoded and into how many parts it is split (3GPP TS 23.038 / 23.040).
///
/// Text that fits the GSM 7-bit default alphabet (with its extension table, whose characters count
/// twice) is sent as GSM-7: 160 septets in one part, 153 per part when concatenated. Anything else —
/// Cyrillic included — is sent as UCS-2: 70 characters in one part, 67 per part, where a character
/// outside the Basic Multilingual Plane (most emoji) takes two.
public struct SMSSegments: Sendable, Equatable {
    public enum Encoding: String, Sendable { case gsm7, ucs2 }

    public let encoding: Encoding
    /// Characters as the recipient sees them.
    public let characters: Int
    /// Units the encoding counts: septets for GSM-7, UTF-16 code units for UCS-2.
    public let units: Int
    /// Parts the message is sent in.
    public let parts: Int
    /// Units still free in the last part.
    public let remaining: Int

    public init(_ text: String) {
        var septets = 0
        var gsm = true
        for scalar in text.unicodeScalars {
            if Self.basic.contains(scalar.value) {
                septets += 1
            } else if Self.extended.contains(scalar.value) {
                septets += 2
            } else {
                gsm = false
                break
            }
        }
        characters = text.count
        if gsm {
            encoding = .gsm7
            units = septets
            (parts, remaining) = Self.split(septets, single: 160, multi: 153)
        } else {
            encoding = .ucs2
            units = text.utf16.count
            (parts, remaining) = Self.split(units, single: 70, multi: 67)
        }
    }

    private static func split(_ units: Int, single: Int, multi: Int) -> (Int, Int) {
        if units <= single { return (1, single - units) }
        let parts = (units + multi - 1) / multi
        return (parts, parts * multi - units)
    }

    /// The GSM 03.38 default alphabet.
    static let basic: Set<UInt32> = Set(
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
            .unicodeScalars.map(\.value))

    /// The extension table: each character is an escape plus itself, two septets.
    static let extended: Set<UInt32> = Set("\u{0C}^{}\\[~]|€".unicodeScalars.map(\.value))
}
