import Foundation

/// A name server of the test's own: Debian's `dnsmasq` on a free loopback port, authoritative
/// for the test's zone (`.test`), answering only from the records given — unknown names get
/// NXDOMAIN. Records use dnsmasq's own syntax:
/// `--mx-host=shop.test,mx1.mail.test,10` and `--host-record=mx1.mail.test,127.0.0.1`.
public final class DNSServer: @unchecked Sendable {
    public let port: Int
    private let process: ChildProcess

    /// - Parameters:
    ///   - mx: (domain, host, preference) triples.
    ///   - addresses: (host, IPv4 address) pairs.
    public init(mx: [(domain: String, host: String, preference: Int)] = [], addresses: [(host: String, address: String)] = []) async throws {
        port = FreePort.next()
        var arguments = [
            "--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-daemon", "--user=root", "--pid-file=",
            "--listen-address=127.0.0.1", "--bind-interfaces", "--port=\(port)", "--local=/test/", "--log-facility=-",
        ]
        arguments += mx.map { "--mx-host=\($0.domain),\($0.host),\($0.preference)" }
        arguments += addresses.map { "--host-record=\($0.host),\($0.address)" }
        process = try ChildProcess(executable: "/usr/sbin/dnsmasq", arguments: arguments)
        for _ in 0..<100 {
            if FreePort.accepts(port) { return }  // dnsmasq also listens on TCP
            if process.exitStatus != nil { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestServerError(message: "dnsmasq did not start: \(process.output)")
    }

    /// `127.0.0.1:<port>`, as `dns.server` takes it.
    public var address: String { "127.0.0.1:\(port)" }

    deinit { process.send(SIGKILL) }
}
