import Foundation

/// An SMTP server of the test's own: Debian's aiosmtpd (`python3-aiosmtpd`) on a free loopback
/// port, with a small handler that keeps every message it accepts as a file and logs connections
/// and transactions, so that tests can check what arrived, how (TLS, AUTH, MAIL parameters) and
/// how many connections were open at once. Recipients matching a rule's pattern get the rule's
/// reply instead (`451 4.7.1 …` to defer, `550 5.1.1 …` to bounce), for its first `times` tries.
public final class AIOSMTPServer: @unchecked Sendable {
    /// A reply for recipients matching a shell pattern (`hard-*@example.test`).
    public struct Rule: Codable, Sendable {
        public var pattern: String
        public var reply: String
        /// Answer so only this many times per address, then accept; 0 means always.
        public var times: Int
        public init(pattern: String, reply: String, times: Int = 0) {
            self.pattern = pattern
            self.reply = reply
            self.times = times
        }
    }

    /// One accepted message.
    public struct Received: Sendable {
        public var mailFrom: String
        public var recipients: [String]
        public var mailOptions: [String]
        public var tls: Bool
        public var authenticated: Bool
        public var peerPort: Int
        public var time: Double
        public var file: String
        public var bytes: [UInt8] { (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))) ?? [] }
        public var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    public let port: Int
    public let folder: URL
    /// The self-signed certificate (CN and SAN `localhost`, IP 127.0.0.1) when started with TLS.
    public var certificate: String { folder.appendingPathComponent("cert.pem").path }
    private var process: ChildProcess?

    public init(tls: Bool = false, requireTLS: Bool = false, login: (user: String, password: String)? = nil, rules: [Rule] = []) async throws {
        port = FreePort.next()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-aiosmtpd-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("messages"), withIntermediateDirectories: true)
        let f = folder.path
        if tls {
            let cert = try ChildProcess(executable: "/usr/bin/openssl", arguments: [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(f)/key.pem", "-out", "\(f)/cert.pem", "-days", "2",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ])
            guard await cert.waitForExit(timeout: .seconds(30)) == 0 else { throw TestServerError(message: "openssl could not make a certificate: \(cert.output)") }
        }
        try JSONEncoder().encode(rules).write(to: folder.appendingPathComponent("rules.json"))
        try Self.script.write(to: folder.appendingPathComponent("server.py"), atomically: true, encoding: .utf8)
        var arguments = [folder.appendingPathComponent("server.py").path, "--port", "\(port)", "--dir", f]
        if tls { arguments += ["--tls"] }
        if requireTLS { arguments += ["--require-tls"] }
        if let login { arguments += ["--auth", "\(login.user):\(login.password)"] }
        process = try ChildProcess(executable: "/usr/bin/python3", arguments: arguments, logFile: "\(f)/server.log")
        for _ in 0..<150 {
            if FileManager.default.fileExists(atPath: "\(f)/ready") { return }
            if process?.exitStatus != nil { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestServerError(message: "aiosmtpd did not start: \(process?.output ?? "")")
    }

    /// Every message accepted so far, in order.
    public func messages() -> [Received] {
        events().compactMap { event in
            guard event["event"] as? String == "message" else { return nil }
            return Received(
                mailFrom: event["mail_from"] as? String ?? "", recipients: event["rcpt"] as? [String] ?? [],
                mailOptions: event["mail_options"] as? [String] ?? [], tls: event["tls"] as? Bool ?? false,
                authenticated: event["auth"] as? Bool ?? false, peerPort: event["peer"] as? Int ?? 0,
                time: event["time"] as? Double ?? 0, file: event["file"] as? String ?? "")
        }
    }

    /// Waits until at least `count` messages arrived; returns them.
    @discardableResult
    public func waitForMessages(_ count: Int, timeout: Duration = .seconds(30)) async throws -> [Received] {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            let received = messages()
            if received.count >= count { return received }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestServerError(message: "aiosmtpd received \(messages().count) of \(count) messages in time")
    }

    /// Recipients the rules refused, with the reply given, in order.
    public func refusals() -> [(recipient: String, reply: String)] {
        events().compactMap { e in
            guard e["event"] as? String == "refused" else { return nil }
            return (e["rcpt"] as? String ?? "", e["reply"] as? String ?? "")
        }
    }

    /// The most connections that were open at the same time.
    public func peakConnections() -> Int {
        var open = 0, peak = 0
        for e in events() {
            switch e["event"] as? String {
            case "connect": open += 1; peak = max(peak, open)
            case "disconnect": open -= 1
            default: break
            }
        }
        return peak
    }

    /// How many connections were made.
    public func connections() -> Int { events().filter { $0["event"] as? String == "connect" }.count }

    private func events() -> [[String: Any]] {
        guard let data = try? String(contentsOf: folder.appendingPathComponent("events.jsonl"), encoding: .utf8) else { return [] }
        return data.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    public func stop() async {
        process?.send()
        _ = await process?.waitForExit(timeout: .seconds(10))
        process?.send(SIGKILL)
    }

    deinit {
        process?.send(SIGKILL)
        try? FileManager.default.removeItem(at: folder)
    }

    static let script = #"""
        import argparse, asyncio, fnmatch, itertools, json, os, signal, ssl, threading, time
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

        ap = argparse.ArgumentParser()
        ap.add_argument("--port", type=int, required=True)
        ap.add_argument("--dir", required=True)
        ap.add_argument("--tls", action="store_true")
        ap.add_argument("--require-tls", action="store_true")
        ap.add_argument("--auth")
        args = ap.parse_args()
        rules = json.load(open(os.path.join(args.dir, "rules.json")))
        tries = {}
        lock = threading.Lock()
        counter = itertools.count(1)
        logging = False

        def log(event):
            if not logging:
                return
            event["time"] = time.time()
            with lock, open(os.path.join(args.dir, "events.jsonl"), "a") as f:
                f.write(json.dumps(event) + "\n")

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                for rule in rules:
                    if fnmatch.fnmatch(address, rule["pattern"]):
                        with lock:
                            n = tries.get((rule["pattern"], address), 0) + 1
                            tries[(rule["pattern"], address)] = n
                        if rule["times"] == 0 or n <= rule["times"]:
                            log({"event": "refused", "rcpt": address, "reply": rule["reply"]})
                            return rule["reply"]
                envelope.rcpt_tos.append(address)
                return "250 2.1.5 OK"

            async def handle_DATA(self, server, session, envelope):
                n = next(counter)
                path = os.path.join(args.dir, "messages", "%06d.eml" % n)
                with open(path, "wb") as f:
                    f.write(envelope.original_content or envelope.content)
                log({"event": "message", "file": path, "mail_from": envelope.mail_from, "rcpt": envelope.rcpt_tos,
                     "mail_options": envelope.mail_options, "tls": session.ssl is not None,
                     "auth": bool(session.authenticated), "peer": session.peer[1]})
                return "250 2.0.0 queued as %d" % n

        class LoggingSMTP(SMTP):
            def connection_made(self, transport):
                if not getattr(self, "_herald_seen", False):
                    self._herald_seen = True
                    self._herald_peer = transport.get_extra_info("peername")[1]
                    log({"event": "connect", "peer": self._herald_peer})
                super().connection_made(transport)

            def connection_lost(self, exc):
                log({"event": "disconnect", "peer": getattr(self, "_herald_peer", 0)})
                super().connection_lost(exc)

        def authenticate(server, session, envelope, mechanism, auth_data):
            user, password = args.auth.split(":", 1)
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
            return AuthResult(success=ok, handled=False)

        class HeraldController(Controller):
            def factory(self):
                return LoggingSMTP(self.handler, **self.SMTP_kwargs)

        kwargs = {"enable_SMTPUTF8": True, "decode_data": False, "server_hostname": "sink.test"}
        if args.tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(os.path.join(args.dir, "cert.pem"), os.path.join(args.dir, "key.pem"))
            kwargs["tls_context"] = context
            kwargs["require_starttls"] = args.require_tls
        if args.auth:
            kwargs.update(auth_required=True, auth_require_tls=False, authenticator=authenticate)
        controller = HeraldController(Handler(), hostname="127.0.0.1", port=args.port, **kwargs)
        controller.start()
        logging = True
        open(os.path.join(args.dir, "ready"), "w").close()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *a: stop.set())
        stop.wait()
        controller.stop()
        """#
}
