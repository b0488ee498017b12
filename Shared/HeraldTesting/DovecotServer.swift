import Foundation

/// A dovecot POP3 server of the test's own (Debian `dovecot-pop3d`, configured as
/// ../shared/SERVERS.md says): one mailbox `bounces`/`secret` in a Maildir under a temporary
/// folder, on a free loopback port. `deliver` drops a message into the Maildir, served at once.
/// With `tls`, a self-signed certificate (openssl) serves STLS on `port` and POP3S on `tlsPort`.
public final class DovecotServer: @unchecked Sendable {
    public let port: Int
    public let tlsPort: Int
    public let user = "bounces"
    public let password = "secret"
    let folder: URL
    let config: URL

    public init(tls: Bool = false) async throws {
        port = FreePort.next()
        tlsPort = tls ? FreePort.next() : 0
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-dovecot-\(UUID().uuidString.prefix(8))")
        let fm = FileManager.default
        for sub in ["run", "state", "log", "mail/bounces/Maildir/cur", "mail/bounces/Maildir/new", "mail/bounces/Maildir/tmp"] {
            try fm.createDirectory(at: folder.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        let m = folder.path
        if tls {
            let cert = try ChildProcess(executable: "/usr/bin/openssl", arguments: [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(m)/key.pem", "-out", "\(m)/cert.pem", "-days", "2",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            ])
            guard await cert.waitForExit(timeout: .seconds(30)) == 0 else { throw TestServerError(message: "openssl could not make a certificate: \(cert.output)") }
        }
        try "bounces:{PLAIN}secret\n".write(to: folder.appendingPathComponent("users"), atomically: true, encoding: .utf8)
        config = folder.appendingPathComponent("dovecot.conf")
        try """
            base_dir = \(m)/run
            state_dir = \(m)/state
            log_path = \(m)/log/dovecot.log
            protocols = pop3
            listen = 127.0.0.1
            ssl = \(tls ? "yes" : "no")
            \(tls ? "ssl_cert = <\(m)/cert.pem\nssl_key = <\(m)/key.pem" : "")
            disable_plaintext_auth = no
            auth_mechanisms = plain login
            first_valid_uid = 100
            mail_location = maildir:\(m)/mail/%u/Maildir
            pop3_uidl_format = %08Xu%08Xv
            passdb {
              driver = passwd-file
              args = scheme=PLAIN username_format=%u \(m)/users
            }
            userdb {
              driver = static
              args = uid=nobody gid=nogroup home=\(m)/mail/%u
            }
            service pop3-login {
              inet_listener pop3 {
                address = 127.0.0.1
                port = \(port)
              }
              inet_listener pop3s {
                address = 127.0.0.1
                port = \(tlsPort)
                ssl = yes
              }
            }

            """.write(to: config, atomically: true, encoding: .utf8)
        let chown = try ChildProcess(executable: "/bin/chown", arguments: ["-R", "nobody:nogroup", folder.appendingPathComponent("mail").path])
        _ = await chown.waitForExit(timeout: .seconds(10))
        let start = try ChildProcess(executable: "/usr/sbin/dovecot", arguments: ["-c", config.path])
        guard await start.waitForExit(timeout: .seconds(20)) == 0 else { throw TestServerError(message: "dovecot did not start: \(start.output)") }
        for _ in 0..<100 {
            if FreePort.accepts(port) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestServerError(message: "dovecot did not open \(port): \((try? String(contentsOfFile: m + "/log/dovecot.log", encoding: .utf8)) ?? "")")
    }

    /// Puts a message in the mailbox (as a delivery agent would: written in tmp, moved to new).
    public func deliver(_ message: String) throws {
        let name = "\(Int(Date().timeIntervalSince1970)).\(UUID().uuidString.prefix(8)).herald"
        let tmp = folder.appendingPathComponent("mail/bounces/Maildir/tmp/\(name)")
        try message.replacingOccurrences(of: "\r\n", with: "\n").write(to: tmp, atomically: true, encoding: .utf8)
        try FileManager.default.moveItem(at: tmp, to: folder.appendingPathComponent("mail/bounces/Maildir/new/\(name)"))
        let chown = try ChildProcess(executable: "/bin/chown", arguments: ["-R", "nobody:nogroup", folder.appendingPathComponent("mail").path])
        _ = chown.waitForExit()
    }

    /// Messages waiting in the mailbox (new and seen).
    public var waiting: Int {
        ["new", "cur"].reduce(0) { $0 + ((try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("mail/bounces/Maildir/\($1)").path))?.count ?? 0) }
    }

    public func stop() async {
        let stop = try? ChildProcess(executable: "/usr/bin/doveadm", arguments: ["-c", config.path, "stop"])
        _ = await stop?.waitForExit(timeout: .seconds(10))
        try? FileManager.default.removeItem(at: folder)
    }
}
