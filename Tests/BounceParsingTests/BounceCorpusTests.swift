import BounceParsing
import Foundation
import Testing

/// 481 real bounce and feedback messages with the verdicts of Sisimai, the field's reference
/// analyser (Tests/BounceParsingTests/Corpus, BSD 2-clause, from sisimai/set-of-emails).
struct BounceCorpus {
    struct Expected: Decodable {
        struct Result: Decodable {
            var recipient: String
            var reason: String
            var deliverystatus: String
            var replycode: String
            var softbounce: Int

            enum CodingKeys: String, CodingKey { case recipient, reason, deliverystatus, replycode, softbounce }

            init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                recipient = try c.decode(String.self, forKey: .recipient)
                reason = try c.decode(String.self, forKey: .reason)
                deliverystatus = try c.decode(String.self, forKey: .deliverystatus)
                // Sisimai writes the reply code as a number or a string.
                replycode = (try? c.decode(String.self, forKey: .replycode)) ?? (try? c.decode(Int.self, forKey: .replycode)).map(String.init) ?? ""
                softbounce = try c.decode(Int.self, forKey: .softbounce)
            }
        }
        var file: String
        var results: [Result]
    }

    /// Sisimai's stand-in when a complaint names no recipient.
    static let undisclosed = "undisclosed-recipient-in-headers@libsisimai.org.invalid"

    static func load() throws -> [(name: String, bytes: [UInt8], expected: [Expected.Result])] {
        let base = try #require(Bundle.module.url(forResource: "Corpus", withExtension: nil))
        let lines = try String(contentsOf: base.appendingPathComponent("expected.jsonl"), encoding: .utf8).split(separator: "\n")
        return try lines.map { line in
            let e = try JSONDecoder().decode(Expected.self, from: Data(line.utf8))
            let bytes = try Data(contentsOf: base.appendingPathComponent("eml/\(e.file)"))
            return (e.file, Array(bytes), e.results)
        }
    }
}

struct Agreement: CustomStringConvertible {
    var agreed = 0
    var total = 0
    mutating func count(_ ok: Bool) {
        total += 1
        if ok { agreed += 1 }
    }
    var rate: Double { total == 0 ? 1 : Double(agreed) / Double(total) }
    var description: String { "\(agreed)/\(total) (\(String(format: "%.1f", rate * 100))%)" }
}

@Suite("Bounce corpus")
struct BounceCorpusTests {
    @Test func agreesWithTheReferenceAnalyser() throws {
        let corpus = try BounceCorpus.load()
        #expect(corpus.count == 481)
        var recipients = Agreement(), statuses = Agreement(), kinds = Agreement(), reasons = Agreement()
        // Messages in which this version of the reference found no bounce (formats it does not know,
        // such as DragonFly's): ours may still find one; they are reported, not scored.
        var unscored = 0
        var misses: [String] = []
        var statusMisses: [String] = []
        var reasonMisses: [String] = []
        for (name, bytes, expected) in corpus {
            let ours = BounceAnalyzer.analyze(bytes)
            if expected.isEmpty {
                unscored += 1
                continue
            }
            let wanted = Set(expected.map { $0.recipient.lowercased() }.filter { $0 != BounceCorpus.undisclosed })
            let found = Set(ours.map(\.recipient).filter { !$0.isEmpty })
            let sameRecipients = wanted == found || (wanted.isEmpty && expected.contains { $0.recipient == BounceCorpus.undisclosed } && found.count <= 1)
            recipients.count(sameRecipients)
            if !sameRecipients { misses.append("\(name): want \(wanted.sorted()) got \(found.sorted())") }
            for e in expected {
                guard let mine = ours.first(where: { $0.recipient == e.recipient.lowercased() }) ?? (ours.count == 1 && expected.count == 1 ? ours.first : nil) else { continue }
                // x.0.9xx are the reference's own codes for "the message gave none": not scored.
                let pseudo = e.deliverystatus.dropFirst(1).hasPrefix(".0.9")
                if !e.deliverystatus.isEmpty && !pseudo {
                    statuses.count(mine.status == e.deliverystatus)
                    if mine.status != e.deliverystatus { statusMisses.append("\(name): want \(e.deliverystatus) (\(e.reason)) got '\(mine.status)' (\(mine.reason))") }
                }
                let kind: Bounce.Kind = e.softbounce == -1 ? .complaint : e.softbounce == 1 ? .soft : .hard
                if e.reason != "vacation" && e.reason != "undefined" { kinds.count(mine.kind == kind) }
                reasons.count(mine.reason == e.reason)
                if mine.reason != e.reason { reasonMisses.append("\(e.reason) <- \(mine.reason)") }
            }
        }
        print("bounce corpus: recipients \(recipients), status codes \(statuses), hard/soft/complaint \(kinds), reasons \(reasons); \(unscored) messages without a reference verdict")
        if ProcessInfo.processInfo.environment["HERALD_BOUNCE_REPORT"] != nil {
            for m in misses { print("  recipient miss: \(m)") }
            for m in statusMisses { print("  status miss: \(m)") }
            for m in reasonMisses { print("  reason miss: \(m)") }
        }
        // Floors at what this analyser reaches today (recipients 88%, status codes 88%, kinds 78%,
        // reasons 54%): a change that makes it worse fails here. Where the reference differs on
        // purpose — it calls "550 Unknown user" at a non-5.1.1 status "filtered" (soft); we keep
        // "userunknown" (hard), because that address does not exist — the reason rate stays lower.
        #expect(recipients.rate >= 0.87, "recipients \(recipients)")
        #expect(statuses.rate >= 0.87, "status codes \(statuses)")
        #expect(kinds.rate >= 0.76, "hard/soft/complaint \(kinds)")
        #expect(reasons.rate >= 0.53, "reasons \(reasons)")
    }
}
