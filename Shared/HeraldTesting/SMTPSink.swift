import Foundation

/// Postfix's `smtp-sink` (Debian `postfix`) on a free loopback port: it accepts every message
/// at full speed and, with `keep`, writes each one to a file so that tests can count them.
public final class SMTPSink: @unchecked Sendable {
    public let port: Int
    public let folder: URL
    private let process: ChildProcess

    /// - Parameters:
    ///   - keep: write each message under `folder` (costs a file per message).
    ///   - backlog: the listen backlog (smtp-sink's last argument).
    ///   - extraArguments: further smtp-sink options, e.g. `["-r", "rcpt"]` to answer RCPT with 450.
    public init(keep: Bool = true, backlog: Int = 1024, extraArguments: [String] = []) async throws {
        port = FreePort.next()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-sink-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        _ = chmod(folder.path, 0o777)
        var arguments = ["-u", "nobody", "-h", "sink.test"] + extraArguments
        if keep { arguments += ["-d", folder.path + "/%H%M%S."] }
        arguments += ["127.0.0.1:\(port)", "\(backlog)"]
        process = try ChildProcess(executable: "/usr/sbin/smtp-sink", arguments: arguments)
        for _ in 0..<100 {
            if FreePort.accepts(port) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestServerError(message: "smtp-sink did not open \(port): \(process.output)")
    }

    /// The messages kept so far (each file holds one transaction, envelope lines first).
    public func messageFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).map { folder.appendingPathComponent($0).path }
    }

    /// The recipient of each kept message (from the `X-Rcpt-Args` line smtp-sink writes first), one entry per message.
    public func recipients() -> [String] {
        messageFiles().compactMap { path in
            guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
            defer { try? handle.close() }
            let head = String(decoding: handle.readData(ofLength: 1024), as: UTF8.self)
            guard let line = head.split(separator: "\n").first(where: { $0.hasPrefix("X-Rcpt-Args: <") }) else { return nil }
            return String(line.dropFirst("X-Rcpt-Args: <".count).prefix { $0 != ">" })
        }
    }

    /// Waits until `count` messages were kept.
    public func waitForMessages(_ count: Int, timeout: Duration = .seconds(60)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            if messageFiles().count >= count { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestServerError(message: "smtp-sink kept \(messageFiles().count) of \(count) messages in time")
    }

    public func stop() async {
        process.send()
        _ = await process.waitForExit(timeout: .seconds(5))
    }

    deinit {
        process.send(SIGKILL)
        try? FileManager.default.removeItem(at: folder)
    }
}
