import Foundation
import ZIPFoundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// An Office Open XML workbook (`.xlsx`): a zip of XML parts, read with ZIPFoundation and the
/// XML parser; only the parts a sheet's values need are read.
public final class XLSXWorkbook {
    // Not Sendable: an import job opens, reads and drops it on its own.
    let archive: Archive
    private let file: String
    /// The names of the worksheets, in order.
    public let sheetNames: [String]
    let sheetPaths: [String]
    let sharedStrings: [String]
    /// Indexes of the cell formats that show dates.
    let dateStyles: Set<Int>

    /// Opens `path`.
    ///
    /// - Throws: ``ImportFileError`` when the file is missing, not a zip, or not a workbook.
    public init(path: String) throws(ImportFileError) {
        file = path
        guard FileManager.default.fileExists(atPath: path) else { throw ImportFileError(file: path, message: "the file does not exist") }
        let notWorkbook = ImportFileError(file: path, message: "this is not an Excel (.xlsx) workbook; save it as .xlsx, .xls or CSV and upload it again")
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw notWorkbook
        }
        guard let workbook = Self.read(archive, "xl/workbook.xml") else { throw notWorkbook }
        let sheets = SheetListParser.parse(workbook)
        let relations = RelationsParser.parse(Self.read(archive, "xl/_rels/workbook.xml.rels") ?? Data())
        sheetNames = sheets.map(\.name)
        sheetPaths = sheets.map { sheet in
            let target = relations[sheet.relation] ?? "worksheets/sheet1.xml"
            return target.hasPrefix("/") ? String(target.dropFirst()) : "xl/" + target
        }
        sharedStrings = Self.read(archive, "xl/sharedStrings.xml").map(SharedStringsParser.parse) ?? []
        dateStyles = Self.read(archive, "xl/styles.xml").map(StylesParser.dateStyles) ?? []
    }

    static func read(_ archive: Archive, _ path: String) -> Data? {
        guard let entry = archive[path] else { return nil }
        var data = Data()
        do {
            _ = try archive.extract(entry, skipCRC32: false) { data.append($0) }
        } catch {
            return nil
        }
        return data
    }

    /// The rows of worksheet `index` with their cells as text (numbers as stored, dates as
    /// `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`, booleans as TRUE/FALSE, empty cells as "").
    public func rows(sheet index: Int = 0) throws(ImportFileError) -> [DelimitedTextReader.Row] {
        guard sheetNames.indices.contains(index) else {
            throw ImportFileError(file: file, message: "there is no sheet \(index + 1); the workbook has \(sheetNames.count)")
        }
        guard let xml = Self.read(archive, sheetPaths[index]) else {
            throw ImportFileError(file: file, message: "sheet '\(sheetNames[index])' is missing from the workbook")
        }
        let parser = SheetParser(sharedStrings: sharedStrings, dateStyles: dateStyles)
        return parser.parse(xml)
    }

    /// Streams worksheet `index`'s rows, `batchSize` at a time, to `handle`. The sheet is copied out
    /// of the archive to a temporary file and parsed as it is read, on a thread of its own that
    /// waits while `handle` works: memory holds the shared strings and one batch, whatever the
    /// sheet's length. An error from `handle` stops the parse and is thrown.
    public static func stream(path: String, sheet index: Int = 0, batchSize: Int,
                              _ handle: @escaping @Sendable ([DelimitedTextReader.Row]) async throws -> Void) async throws {
        let workbook = try XLSXWorkbook(path: path)
        guard workbook.sheetNames.indices.contains(index) else {
            throw ImportFileError(file: path, message: "there is no sheet \(index + 1); the workbook has \(workbook.sheetNames.count)")
        }
        guard let entry = workbook.archive[workbook.sheetPaths[index]] else {
            throw ImportFileError(file: path, message: "sheet '\(workbook.sheetNames[index])' is missing from the workbook")
        }
        let sheet = FileManager.default.temporaryDirectory.appendingPathComponent("herald-sheet-\(UUID().uuidString).xml")
        defer { try? FileManager.default.removeItem(at: sheet) }
        do {
            _ = try workbook.archive.extract(entry, to: sheet, skipCRC32: false)
        } catch {
            throw ImportFileError(file: path, message: "sheet '\(workbook.sheetNames[index])' cannot be read from the archive: \(error)")
        }
        let (sharedStrings, dateStyles, file) = (workbook.sharedStrings, workbook.dateStyles, path)
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            let thread = Thread {
                let delivery = RowDelivery(handle)
                let parser = SheetParser(sharedStrings: sharedStrings, dateStyles: dateStyles)
                var batch: [DelimitedTextReader.Row] = []
                parser.onRow = { row in
                    batch.append(row)
                    guard batch.count >= batchSize else { return true }
                    defer { batch.removeAll(keepingCapacity: true) }
                    return delivery.deliver(batch)
                }
                guard let input = InputStream(url: sheet) else {
                    done.resume(throwing: ImportFileError(file: file, message: "the sheet could not be opened"))
                    return
                }
                let xml = XMLParser(stream: input)
                xml.delegate = parser
                let parsed = xml.parse()
                if let failure = delivery.failure {
                    done.resume(throwing: failure)
                } else if !parsed {
                    done.resume(throwing: ImportFileError(file: file, message: "the sheet is not valid XML (\(xml.parserError.map { "\($0)" } ?? "unknown error")); save the workbook again"))
                } else if !batch.isEmpty, !delivery.deliver(batch) {
                    done.resume(throwing: delivery.failure ?? CancellationError())
                } else {
                    done.resume()
                }
            }
            thread.name = "xlsx-sheet"
            thread.start()
        }
    }

    /// Days since 1899-12-30 (Excel's serial dates) as text.
    static func date(fromSerial serial: Double) -> String {
        let seconds = (serial * 86_400).rounded()
        let date = Date(timeIntervalSince1970: seconds - 2_209_161_600)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let day = String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
        if serial == serial.rounded(.down) { return day }
        return day + String(format: " %02d:%02d:%02d", c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }
}

// MARK: XML parts

/// Runs `delegate` over `data` (XMLParser keeps its delegate weakly; the caller holds it).
private func runXMLParser(_ data: Data, _ delegate: some XMLParserDelegate) {
    let parser = XMLParser(data: data)
    parser.delegate = delegate
    parser.parse()
}

private final class SheetListParser: NSObject, XMLParserDelegate {
    var sheets: [(name: String, relation: String)] = []

    static func parse(_ data: Data) -> [(name: String, relation: String)] {
        let p = SheetListParser()
        runXMLParser(data, p)
        return p.sheets
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
        guard name == "sheet" || name.hasSuffix(":sheet") else { return }
        let relation = attributes.first { $0.key == "r:id" || $0.key.hasSuffix(":id") }?.value ?? ""
        sheets.append((attributes["name"] ?? "Sheet\(sheets.count + 1)", relation))
    }
}

private final class RelationsParser: NSObject, XMLParserDelegate {
    var targets: [String: String] = [:]

    static func parse(_ data: Data) -> [String: String] {
        let p = RelationsParser()
        runXMLParser(data, p)
        return p.targets
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
        if name == "Relationship", let id = attributes["Id"], let target = attributes["Target"] { targets[id] = target }
    }
}

private final class SharedStringsParser: NSObject, XMLParserDelegate {
    var strings: [String] = []
    private var current = ""
    private var inText = false

    static func parse(_ data: Data) -> [String] {
        let p = SharedStringsParser()
        runXMLParser(data, p)
        return p.strings
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
        if name == "si" { current = "" }
        if name == "t" { inText = true }
        if name == "rPh" { inText = false }  // phonetic hints are not the text
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText { current += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "t" { inText = false }
        if name == "si" { strings.append(current) }
    }
}

private final class StylesParser: NSObject, XMLParserDelegate {
    private var customDateFormats = Set<Int>()
    private var inCellFormats = false
    private var formatOfStyle: [Int] = []

    /// The built-in number formats that show dates and times.
    static let builtInDates: Set<Int> = [14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47]

    static func dateStyles(_ data: Data) -> Set<Int> {
        let p = StylesParser()
        runXMLParser(data, p)
        return Set(p.formatOfStyle.indices.filter { builtInDates.contains(p.formatOfStyle[$0]) || p.customDateFormats.contains(p.formatOfStyle[$0]) })
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
        switch name {
        case "numFmt":
            if let id = attributes["numFmtId"].flatMap(Int.init), let code = attributes["formatCode"]?.lowercased() {
                // A format with day, month or year parts (outside quoted text) shows a date.
                let unquoted = code.split(separator: "\"", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 0 }.map(\.element).joined()
                if unquoted.contains("y") || unquoted.contains("d") || (unquoted.contains("m") && !unquoted.contains("0")) {
                    customDateFormats.insert(id)
                }
            }
        case "cellXfs": inCellFormats = true
        case "xf" where inCellFormats: formatOfStyle.append(attributes["numFmtId"].flatMap(Int.init) ?? 0)
        default: break
        }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "cellXfs" { inCellFormats = false }
    }
}

/// Hands batches from the parsing thread to the async importer, blocking the thread until each is taken.
private final class RowDelivery: @unchecked Sendable {
    // @unchecked Sendable: `failure` is written by the task `deliver` waits for, and read after that wait.
    let handle: @Sendable ([DelimitedTextReader.Row]) async throws -> Void
    var failure: (any Error)?

    init(_ handle: @escaping @Sendable ([DelimitedTextReader.Row]) async throws -> Void) { self.handle = handle }

    /// False when the importer refused the batch (an error, or it stopped reading).
    func deliver(_ rows: [DelimitedTextReader.Row]) -> Bool {
        guard failure == nil else { return false }
        let taken = DispatchSemaphore(value: 0)
        Task {
            do { try await handle(rows) } catch { failure = error }
            taken.signal()
        }
        taken.wait()
        return failure == nil
    }
}

private final class SheetParser: NSObject, XMLParserDelegate {
    let sharedStrings: [String]
    let dateStyles: Set<Int>
    var rows: [DelimitedTextReader.Row] = []
    /// When set, each row goes here instead of into `rows`; false stops the parse.
    var onRow: ((DelimitedTextReader.Row) -> Bool)?
    private var emitted = 0
    private var rowNumber = 0
    private var cells: [Int: String] = [:]
    private var column = 0
    private var type = ""
    private var style = 0
    private var value = ""
    private var inValue = false

    init(sharedStrings: [String], dateStyles: Set<Int>) {
        self.sharedStrings = sharedStrings
        self.dateStyles = dateStyles
    }

    func parse(_ data: Data) -> [DelimitedTextReader.Row] {
        runXMLParser(data, self)
        while let last = rows.last, last.fields.allSatisfy(\.isEmpty) { rows.removeLast() }
        return rows
    }

    /// "BC12" → column 54 (0-based).
    static func columnIndex(_ reference: String) -> Int {
        var n = 0
        for scalar in reference.unicodeScalars {
            guard scalar.value >= 65 && scalar.value <= 90 else { break }
            n = n * 26 + Int(scalar.value - 64)
        }
        return max(0, n - 1)
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String]) {
        switch name {
        case "row":
            rowNumber = attributes["r"].flatMap(Int.init) ?? rowNumber + 1
            cells = [:]
            column = 0
        case "c":
            column = attributes["r"].map(Self.columnIndex) ?? column
            type = attributes["t"] ?? "n"
            style = attributes["s"].flatMap(Int.init) ?? 0
            value = ""
        case "v", "t":
            inValue = true
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inValue { value += string }
    }

    private func emit(_ row: DelimitedTextReader.Row, _ parser: XMLParser) {
        emitted += 1
        guard let onRow else {
            rows.append(row)
            return
        }
        if !onRow(row) { parser.abortParsing() }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch name {
        case "v", "t":
            inValue = false
        case "c":
            let text: String
            switch type {
            case "s": text = Int(value).flatMap { sharedStrings.indices.contains($0) ? sharedStrings[$0] : nil } ?? ""
            case "b": text = value == "1" ? "TRUE" : "FALSE"
            case "inlineStr", "str", "e": text = value
            default:
                if dateStyles.contains(style), let serial = Double(value) { text = XLSXWorkbook.date(fromSerial: serial) } else { text = value }
            }
            cells[column] = text
            column += 1
        case "row":
            let width = (cells.keys.max() ?? -1) + 1
            // Rows the sheet skips (nothing in them) are empty rows, as a spreadsheet shows them.
            while emitted + 1 < rowNumber { emit(.init(line: emitted + 1, fields: []), parser) }
            emit(.init(line: rowNumber, fields: (0..<width).map { cells[$0] ?? "" }), parser)
        default: break
        }
    }
}
