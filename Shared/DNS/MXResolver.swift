import CResolv
import Foundation
import NIOPosix
import Synchronization

/// Finds a domain's mail route with the system resolver library (glibc's libresolv), each query
/// on NIO's blocking thread pool with its own resolver state, and caches answers for their TTL
/// (between `minimumCacheTime` and `maximumCacheTime`; failures for a minute).
public final class MXResolver: Sendable {
    /// The name server to ask (`127.0.0.1:5353`); the system's (/etc/resolv.conf) when nil.
    public let server: (host: String, port: Int)?
    public let maximumCacheTime: Duration
    public let minimumCacheTime: Duration
    private let cache = Mutex<[String: (route: Result<MailRoute, MailRouteError>, expires: ContinuousClock.Instant)]>([:])

    /// - Parameter server: `host:port` of a name server, or nil for the system's.
    public init(server: String? = nil, minimumCacheTime: Duration = .seconds(60), maximumCacheTime: Duration = .seconds(300)) {
        if let server, !server.isEmpty {
            let parts = server.split(separator: ":")
            self.server = (String(parts[0]), parts.count > 1 ? Int(parts[1]) ?? 53 : 53)
        } else {
            self.server = nil
        }
        self.maximumCacheTime = maximumCacheTime
        self.minimumCacheTime = minimumCacheTime
    }

    /// The route for `domain`: its MX hosts with their addresses, or the implicit MX.
    public func route(for domain: String) async throws(MailRouteError) -> MailRoute {
        let key = domain.lowercased()
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0[key] }), cached.expires > now { return try cached.route.get() }
        let (result, ttl) = await resolve(key)
        // Kept at least a minute even with a shorter TTL (0 is common in test and internal zones):
        // a sender asks for the same few destinations thousands of times a second.
        let keep: Duration = switch result {
        case .success: max(min(.seconds(Int(ttl)), maximumCacheTime), minimumCacheTime)
        case .failure: .seconds(60)
        }
        cache.withLock { $0[key] = (result, now.advanced(by: keep)) }
        return try result.get()
    }

    private func resolve(_ domain: String) async -> (Result<MailRoute, MailRouteError>, UInt32) {
        do {
            var ttl: UInt32 = 86_400
            let exchangers: [(preference: Int, name: String)]
            switch try await lookup(domain, type: Int32(ns_t_mx.rawValue)) {
            case .records(let lines, let t):
                ttl = min(ttl, t)
                exchangers = lines.compactMap { line in
                    let parts = line.split(separator: " ", maxSplits: 1)
                    guard parts.count == 2, let preference = Int(parts[0]) else { return nil }
                    return (preference, String(parts[1]).lowercased())
                }
                .enumerated().sorted { ($0.element.preference, $0.offset) < ($1.element.preference, $1.offset) }.map(\.element)
            case .noSuchDomain: return (.failure(.noSuchDomain(domain)), 60)
            case .noData: exchangers = []
            }
            if exchangers.count == 1, exchangers[0].name == "." {
                return (.failure(.acceptsNoMail(domain)), ttl)  // RFC 7505 null MX
            }
            if exchangers.isEmpty {
                let addresses = try await addresses(of: domain)
                guard !addresses.list.isEmpty else { return (.failure(.acceptsNoMail(domain)), 60) }
                return (.success(MailRoute(domain: domain, hosts: [.init(name: domain, preference: 0, addresses: addresses.list)], isImplicit: true)),
                        min(ttl, addresses.ttl))
            }
            var hosts: [MailRoute.Host] = []
            for exchanger in exchangers where exchanger.name != "." {
                let addresses = try await addresses(of: exchanger.name)
                ttl = min(ttl, addresses.ttl)
                // A host without addresses is skipped; the others may still take the mail.
                if !addresses.list.isEmpty { hosts.append(.init(name: exchanger.name, preference: exchanger.preference, addresses: addresses.list)) }
            }
            guard !hosts.isEmpty else { return (.failure(.temporaryFailure("no MX host of \(domain) has an address")), 60) }
            return (.success(MailRoute(domain: domain, hosts: hosts, isImplicit: false)), ttl)
        } catch {
            return (.failure(error), 60)
        }
    }

    private func addresses(of host: String) async throws(MailRouteError) -> (list: [String], ttl: UInt32) {
        if host.first?.isNumber == true, host.split(separator: ".").count == 4, host.split(separator: ".").allSatisfy({ UInt8($0) != nil }) {
            return ([host], 86_400)  // an address literal given as a host
        }
        var list: [String] = []
        var ttl: UInt32 = 86_400
        for type in [Int32(ns_t_a.rawValue), Int32(ns_t_aaaa.rawValue)] {
            if case .records(let lines, let t) = try await lookup(host, type: type) {
                list += lines
                ttl = min(ttl, t)
            }
        }
        return (list, ttl)
    }

    private enum Answer: Sendable {
        case records([String], ttl: UInt32)
        case noSuchDomain
        case noData
    }

    private func lookup(_ name: String, type: Int32) async throws(MailRouteError) -> Answer {
        let server = self.server
        let outcome: (Int32, String, UInt32)
        do {
            outcome = try await NIOThreadPool.singleton.runIfActive {
                var buffer = [CChar](repeating: 0, count: 16_384)
                var ttl: UInt32 = 0
                let count = herald_dns_lookup(server?.host, Int32(server?.port ?? 53), name, type, &buffer, Int32(buffer.count), &ttl, 3, 2)
                let text = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                return (count, text, ttl)
            }
        } catch {
            throw .temporaryFailure("the resolver's thread pool is not running")
        }
        switch outcome.0 {
        case HERALD_DNS_NXDOMAIN: return .noSuchDomain
        case HERALD_DNS_NODATA: return .noData
        case HERALD_DNS_TRYAGAIN: throw .temporaryFailure("no answer for \(name)")
        case HERALD_DNS_FAILED: throw .temporaryFailure("a malformed answer for \(name)")
        default: return .records(outcome.1.split(separator: "\n").map(String.init), ttl: outcome.2)
        }
    }
}
