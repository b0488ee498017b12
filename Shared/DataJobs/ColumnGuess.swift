import CustomerData

/// Suggests which field each column of a file goes into, from its header: the field's key or
/// title, or a common name for it in English or Russian.
public enum ColumnGuess {
    static let synonyms: [String: [String]] = [
        "email": ["email", "e-mail", "mail", "emailaddress", "почта", "электроннаяпочта", "емейл", "имейл"],
        "phone": ["phone", "tel", "telephone", "mobile", "cell", "phonenumber", "телефон", "мобильный", "тел"],
        "first_name": ["firstname", "name", "givenname", "имя"],
        "last_name": ["lastname", "surname", "familyname", "фамилия"],
        "external_id": ["externalid", "id", "customerid", "clientid", "код", "идентификатор"],
    ]

    static func normalize(_ text: String) -> String {
        text.lowercased().filter { $0.isLetter || $0.isNumber }
    }

    public static func mapping(header: [String], database: ProfileDatabase) -> [ImportJob.ColumnMapping] {
        var used = Set<String>()
        return header.enumerated().map { index, name in
            let key = normalize(name)
            let field = database.fields.first { field in
                !used.contains(field.key)
                    && (normalize(field.key) == key || normalize(field.title) == key || (synonyms[field.key]?.contains(key) ?? false))
            }
            if let field { used.insert(field.key) }
            return ImportJob.ColumnMapping(column: index, header: name, field: field?.key ?? "")
        }
    }
}
