import Foundation

/// An independent DKIM verifier for tests: dkimpy (PyPI, pinned in the development virtualenv),
/// given the DNS record to find at `selector._domainkey.domain`.
public enum DKIMVerifier {
    /// dkimpy's verdict on `signed`: "pass" or "fail".
    public static func verify(_ signed: [UInt8], domain: String, selector: String, record: String) async throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-dkim-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(signed).write(to: folder.appendingPathComponent("message.eml"))
        try """
            import dkim, sys
            record = sys.argv[2].encode()
            def dns(name, timeout=5):
                return record if name == b"\(selector)._domainkey.\(domain)." else None
            data = open(sys.argv[1], "rb").read()
            print("pass" if dkim.verify(data, dnsfunc=dns) else "fail")
            """.write(to: folder.appendingPathComponent("verify.py"), atomically: true, encoding: .utf8)
        let python = TestEnvironment.repositoryRoot.appendingPathComponent(".stack/venv/bin/python").path
        let run = try ChildProcess(executable: python, arguments: [folder.appendingPathComponent("verify.py").path, folder.appendingPathComponent("message.eml").path, record])
        _ = await run.waitForExit(timeout: .seconds(60))
        return run.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A private key in PEM made by openssl (`["genpkey", "-algorithm", "ED25519"]`).
    public static func opensslKey(_ arguments: [String]) async throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-key-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("key.pem").path
        let run = try ChildProcess(executable: "/usr/bin/openssl", arguments: arguments + ["-out", path])
        guard await run.waitForExit(timeout: .seconds(60)) == 0 else { throw TestServerError(message: "openssl: \(run.output)") }
        return try String(contentsOfFile: path, encoding: .utf8)
    }
}
