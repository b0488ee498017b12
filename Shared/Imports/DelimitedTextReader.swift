/// Reads CSV and TXT imports: any common delimiter (detected), quoted fields with doubled quotes
/// and line breaks inside, CRLF or LF, a UTF-8 byte-order mark, UTF-8 or Windows-1251 (detected).
///
/// Bytes go in as they arrive (`feed`), rows come out as soon as they are complete, so memory
/// stays flat whatever the file size. A malformed row is reported with its line number and the
/// reader goes on with the next one: one bad row never stops an import.
public struct DelimitedTextReader: Sendable {
    /// One row, with the line it starts on (1-based, as a spreadsheet shows it).
    public struct Row: Sendable, Equatable {
        public var line: Int
        public var fields: [String]

        public init(line: Int, fields: [String]) {
            self.line = line
            self.fields = fields
        }
    }

    /// A row that could not be read, and why.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    public private(set) var delimiter: UInt8?
    public private(set) var encoding: ImportTextEncoding?
    private var pending: [UInt8] = []
    private var line = 1
    private var sawBOMCheck = false

    /// - Parameters:
    ///   - delimiter: Force a delimiter; by default it is detected from the first lines
    ///     (`,` `;` tab `|`, whichever splits them most consistently).
    ///   - encoding: Force an encoding; by default it is detected from the first bytes.
    public init(delimiter: Character? = nil, encoding: ImportTextEncoding? = nil) {
        self.delimiter = delimiter?.asciiValue
        self.encoding = encoding
    }

    /// Adds bytes; returns the rows they complete and the problems found in them.
    public mutating func feed(_ bytes: some Collection<UInt8>) -> (rows: [Row], problems: [Problem]) {
        pending.append(contentsOf: bytes)
        if !sawBOMCheck {
            guard pending.count >= 3 else { return ([], []) }
            if pending.starts(with: [0xEF, 0xBB, 0xBF]) {
                pending.removeFirst(3)
                encoding = encoding ?? .utf8
            }
            sawBOMCheck = true
        }
        // Decide the delimiter and encoding once enough is there (or at the end).
        if delimiter == nil || encoding == nil {
            guard pending.count >= 64 * 1024 else { return ([], []) }
            settle()
        }
        return parse(final: false)
    }

    /// Reads what is left after the last bytes.
    public mutating func finish() -> (rows: [Row], problems: [Problem]) {
        sawBOMCheck = true
        settle()
        return parse(final: true)
    }

    private mutating func settle() {
        if encoding == nil { encoding = ImportTextEncoding.detect(pending.prefix(64 * 1024)) }
        if delimiter == nil { delimiter = Self.detectDelimiter(pending.prefix(64 * 1024)) }
    }

    /// The candidate that gives the first lines the same, largest number of fields.
    static func detectDelimiter(_ sample: ArraySlice<UInt8>) -> UInt8 {
        let candidates: [UInt8] = [44, 59, 9, 124]  // , ; tab |
        var lines: [ArraySlice<UInt8>] = []
        var start = sample.startIndex
        for i in sample.indices where sample[i] == 10 {
            lines.append(sample[start..<i])
            start = i + 1
            if lines.count == 20 { break }
        }
        if lines.isEmpty { lines = [sample] }
        var best: (delimiter: UInt8, score: Int) = (44, -1)
        for c in candidates {
            var counts: [Int] = []
            for l in lines {
                var inQuotes = false, n = 0
                for b in l {
                    if b == 34 { inQuotes.toggle() } else if b == c && !inQuotes { n += 1 }
                }
                counts.append(n)
            }
            guard let first = counts.first, first > 0 else { continue }
            let consistent = counts.filter { $0 == first }.count
            let score = consistent * 100 + first
            if score > best.score { best = (c, score) }
        }
        return best.delimiter
    }

    private mutating func parse(final: Bool) -> (rows: [Row], problems: [Problem]) {
        guard let delimiter, let encoding else { return ([], []) }
        var rows: [Row] = []
        var problems: [Problem] = []
        var i = 0
        var consumed = 0
        let n = pending.count
        outer: while i < n {
            let rowLine = line
            var fields: [String] = []
            var field: [UInt8] = []
            var inQuotes = false
            var quotedField = false
            var linesInRow = 0
            var j = i
            while true {
                if j >= n {
                    if !final { break outer }  // wait for more bytes
                    if inQuotes {
                        problems.append(Problem(line: rowLine, message: "a quoted field is not closed before the end of the file; close it with \""))
                        line += linesInRow
                        consumed = n
                        break outer
                    }
                    if !field.isEmpty || !fields.isEmpty || quotedField { fields.append(encoding.decode(field[...])) }
                    if !fields.isEmpty { rows.append(Row(line: rowLine, fields: fields)) }
                    consumed = n
                    break outer
                }
                let b = pending[j]
                if inQuotes {
                    if b == 34 {
                        if j + 1 < n && pending[j + 1] == 34 {
                            field.append(34)
                            j += 2
                            continue
                        }
                        if j + 1 >= n && !final { break outer }
                        inQuotes = false
                        j += 1
                        continue
                    }
                    if b == 10 { linesInRow += 1 }
                    field.append(b)
                    j += 1
                    continue
                }
                if b == 34 && field.isEmpty && !quotedField {
                    inQuotes = true
                    quotedField = true
                    j += 1
                } else if b == delimiter {
                    fields.append(encoding.decode(field[...]))
                    field.removeAll(keepingCapacity: true)
                    quotedField = false
                    j += 1
                } else if b == 10 || b == 13 {
                    if b == 13 && j + 1 >= n && !final { break outer }
                    let next = (b == 13 && j + 1 < n && pending[j + 1] == 10) ? j + 2 : j + 1
                    fields.append(encoding.decode(field[...]))
                    linesInRow += 1
                    let blank = fields.count == 1 && fields[0].isEmpty && !quotedField
                    if !blank { rows.append(Row(line: rowLine, fields: fields)) }
                    line += linesInRow
                    i = next
                    consumed = next
                    continue outer
                } else {
                    if quotedField {
                        problems.append(Problem(line: rowLine, message: "text after a closing quote; put the whole field in quotes and double the quotes inside (\"\")"))
                        // Skip to the end of this line and go on with the next row.
                        while j < n && pending[j] != 10 { j += 1 }
                        if j >= n && !final { break outer }
                        line += linesInRow + 1
                        i = min(j + 1, n)
                        consumed = i
                        continue outer
                    }
                    field.append(b)
                    j += 1
                }
            }
        }
        pending.removeFirst(consumed)
        return (rows, problems)
    }
}
