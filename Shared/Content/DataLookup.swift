import AsyncHTTPClient
import CustomerData
import DataJobs
import Foundation
import NIOCore
import NIOHTTP1
import Templates

/// Looks up a message's data sources for one recipient: only the sources the message reads,
/// each within its timeout, answers reused within a sending (``DataSourceCache``). A source that
/// fails or is slow gives its fallback — or, when required, fails this recipient with the reason.
public struct DataLookup: Sendable {
    let sources: [String: DataSource]
    let cache: DataSourceCache
    let http: HTTPClient
    /// Compiled URL and header templates of HTTP sources.
    let requests: [String: (url: Template, headers: [(String, Template)])]

    /// - Throws: ``ContentErrors`` when a source's URL or header template does not compile.
    public init(sources: [DataSource], cache: DataSourceCache = DataSourceCache(), http: HTTPClient = .shared) throws(ContentErrors) {
        self.sources = Dictionary(sources.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.cache = cache
        self.http = http
        var requests: [String: (Template, [(String, Template)])] = [:], errors: [ContentErrors.Failure] = []
        let engine = TemplateEngine(limits: RenderLimits(loopIterations: 1000, outputBytes: 16_384, renderTime: .milliseconds(50)))
        for source in sources where source.kind == .http {
            do {
                let url = try engine.compile(source.url, name: "\(source.name).url")
                var headers: [(String, Template)] = []
                for (name, value) in source.headers.sorted(by: { $0.key < $1.key }) { headers.append((name, try engine.compile(value, name: "\(source.name).\(name)"))) }
                requests[source.name] = (url, headers)
            } catch {
                errors.append(ContentErrors.Failure(part: source.name, line: error.line, column: error.column, message: error.description))
            }
        }
        guard errors.isEmpty else { throw ContentErrors(failures: errors) }
        self.requests = requests
    }

    /// The values of the sources `message` reads, for the recipient `profile`, looked up at once
    /// (a recipient waits at most as long as the slowest source's timeout).
    public func values(for message: ComposedMessage, profile: Profile?) async throws(LookupFailure) -> [String: TemplateValue] {
        let profileValue = profile.map(TemplateData.profile) ?? .object([:])
        let wanted = message.variables.sorted().compactMap { sources[$0] }
        if wanted.count == 1 { return [wanted[0].name: try await value(of: wanted[0], profile: profile, profileValue: profileValue)] }
        let results = await withTaskGroup(of: (String, Result<TemplateValue, LookupFailure>).self) { group in
            for source in wanted {
                group.addTask {
                    do throws(LookupFailure) {
                        return (source.name, .success(try await self.value(of: source, profile: profile, profileValue: profileValue)))
                    } catch {
                        return (source.name, .failure(error))
                    }
                }
            }
            var results: [(String, Result<TemplateValue, LookupFailure>)] = []
            for await result in group { results.append(result) }
            return results
        }
        var values: [String: TemplateValue] = [:]
        for (name, result) in results.sorted(by: { $0.0 < $1.0 }) { values[name] = try result.get() }
        return values
    }

    /// One source's value for a recipient.
    public func value(of source: DataSource, profile: Profile?, profileValue: TemplateValue) async throws(LookupFailure) -> TemplateValue {
        let key: String
        do {
            key = try cacheKey(source, profile: profile, profileValue: profileValue)
        } catch {
            return try fallback(source, reason: "\(error)")
        }
        if let cached = await cache.value(for: key) { return cached }
        do {
            let value = try await Self.within(milliseconds: source.timeoutMilliseconds) { try await self.fetch(source, key: key, profile: profile, profileValue: profileValue) }
            await cache.store(value, for: key, seconds: source.cacheSeconds)
            return value
        } catch {
            return try fallback(source, reason: error is TimedOut ? "no answer within \(source.timeoutMilliseconds) ms" : "\(error)")
        }
    }

    func fallback(_ source: DataSource, reason: String) throws(LookupFailure) -> TemplateValue {
        if source.required { throw LookupFailure(source: source.name, reason: reason) }
        return TemplateData.json(text: source.fallback) ?? .null
    }

    /// The source and what it is asked: the SQL parameters, or the HTTP request's URL and headers.
    func cacheKey(_ source: DataSource, profile: Profile?, profileValue: TemplateValue) throws -> String {
        switch source.kind {
        case .sql:
            return source._id + "|" + parameters(source, profile).map { $0 ?? "\u{0}" }.joined(separator: "\u{1}")
        case .http:
            let request = requests[source.name]!
            let context = ["profile": profileValue]
            return source._id + "|" + (try request.url.render(context)) + "|" + (try request.headers.map { "\($0.0)=\(try $0.1.render(context))" }.joined(separator: "\u{1}"))
        }
    }

    func parameters(_ source: DataSource, _ profile: Profile?) -> [String?] {
        source.parameters.map { key in
            if key == "id" { return profile?._id }
            return profile?[field: key].map { StoredValueText.text($0) }
        }
    }

    func fetch(_ source: DataSource, key: String, profile: Profile?, profileValue: TemplateValue) async throws -> TemplateValue {
        switch source.kind {
        case .sql:
            let rows = try await SQLLookup.rows(url: source.url, query: source.query, parameters: parameters(source, profile), timeoutMilliseconds: source.timeoutMilliseconds)
            return .array(rows.map { row in .object(row.mapValues { $0.map(TemplateValue.string) ?? .null }) })
        case .http:
            let request = requests[source.name]!
            let context = ["profile": profileValue]
            var outgoing = HTTPClientRequest(url: try request.url.render(context))
            outgoing.headers.add(name: "Accept", value: "application/json")
            outgoing.headers.add(name: "User-Agent", value: "Herald")
            for (name, template) in request.headers { outgoing.headers.replaceOrAdd(name: name, value: try template.render(context)) }
            let response = try await http.execute(outgoing, timeout: .milliseconds(Int64(source.timeoutMilliseconds)))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard (200..<300).contains(response.status.code) else { throw SourceAnswer(message: "the service answered \(response.status.code)") }
            guard let value = TemplateData.json(text: String(buffer: body)) else { throw SourceAnswer(message: "the answer is not JSON") }
            return value
        }
    }

    struct SourceAnswer: Error, CustomStringConvertible { let message: String; var description: String { message } }
    struct TimedOut: Error {}

    /// Runs `body`, giving up after `milliseconds`: the answer is whichever comes first, and a
    /// late body is cancelled and left to finish on its own (a blocked database call ends by the
    /// server's statement timeout); the recipient does not wait for it.
    static func within<T: Sendable>(milliseconds: Int, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let once = Once<T>()
        return try await withCheckedThrowingContinuation { continuation in
            once.continuation = continuation
            let work = Task {
                do { once.resume(.success(try await body())) } catch { once.resume(.failure(error)) }
            }
            Task {
                try? await Task.sleep(for: .milliseconds(milliseconds))
                if once.resume(.failure(TimedOut())) { work.cancel() }
            }
        }
    }

    /// Resumes a continuation once, from whichever side comes first.
    final class Once<T: Sendable>: @unchecked Sendable {
        // @unchecked Sendable: every access to `continuation` holds `lock`.
        private let lock = NSLock()
        var continuation: CheckedContinuation<T, any Error>?

        @discardableResult
        func resume(_ result: Result<T, any Error>) -> Bool {
            lock.lock()
            let waiting = continuation
            continuation = nil
            lock.unlock()
            waiting?.resume(with: result)
            return waiting != nil
        }
    }
}

/// A required data source failed for this recipient.
public struct LookupFailure: Error, Sendable, CustomStringConvertible {
    public let source: String
    public let reason: String
    public var description: String { "the data source '\(source)' failed: \(reason)" }
}

/// Answers of data sources kept for a sending: the same question within `cacheSeconds` is asked once.
public actor DataSourceCache {
    var entries: [String: (value: TemplateValue, expires: ContinuousClock.Instant)] = [:]
    public private(set) var hits = 0

    public init() {}

    func value(for key: String) -> TemplateValue? {
        guard let entry = entries[key], entry.expires > .now else { return nil }
        hits += 1
        return entry.value
    }

    func store(_ value: TemplateValue, for key: String, seconds: Int) {
        guard seconds > 0 else { return }
        if entries.count > 100_000 { entries.removeAll(keepingCapacity: true) }
        entries[key] = (value, .now.advanced(by: .seconds(seconds)))
    }
}
