import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A throw-away OpenLDAP server (Debian's `slapd`) on a free loopback port, with the suffix
/// `dc=example,dc=com`, people under `ou=people` and `groupOfNames` groups under `ou=groups`.
/// Its configuration and data live in a temporary folder that ``stop()`` removes.
public final class SlapdServer: @unchecked Sendable {
    // @unchecked Sendable: every stored property is a constant.
    public let port: Int
    public let folder: URL
    /// With `tls`, the self-signed certificate (for 127.0.0.1) the server presents, which a client must trust.
    public let certificateFile: String?
    private let process: ChildProcess

    public struct Person: Sendable {
        public let uid: String
        public let password: String
        public let name: String
        public init(uid: String, password: String, name: String) {
            self.uid = uid
            self.password = password
            self.name = name
        }
    }

    public static let suffix = "dc=example,dc=com"
    public static let adminDN = "cn=admin,dc=example,dc=com"
    public static let adminPassword = "adminpw"

    public var url: String { "ldap://127.0.0.1:\(port)" }

    public static func dn(of uid: String) -> String { "uid=\(uid.replacingOccurrences(of: ",", with: "\\,")),ou=people,\(suffix)" }
    public static func groupDN(_ cn: String) -> String { "cn=\(cn),ou=groups,\(suffix)" }

    /// Starts slapd with `people` and `groups` (group cn → member uids); with `tls`, StartTLS is
    /// offered with a self-signed certificate made by openssl for this server.
    public init(people: [Person], groups: [String: [String]], tls: Bool = false) async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-slapd-\(UUID().uuidString.prefix(8))")
        let configFolder = folder.appendingPathComponent("slapd.d"), dataFolder = folder.appendingPathComponent("db")
        try FileManager.default.createDirectory(at: configFolder, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dataFolder, withIntermediateDirectories: true)
        var tlsConfig = ""
        if tls {
            let certificate = folder.appendingPathComponent("server.pem").path, key = folder.appendingPathComponent("server.key").path
            let openssl = try ChildProcess(executable: "/usr/bin/openssl", arguments: [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate,
            ])
            guard await openssl.waitForExit(timeout: .seconds(60)) == 0 else { throw TestServerError(message: "openssl failed: \(openssl.output)") }
            tlsConfig = "olcTLSCertificateFile: \(certificate)\nolcTLSCertificateKeyFile: \(key)\n"
            certificateFile = certificate
        } else {
            certificateFile = nil
        }
        let schemas = ["core", "cosine", "nis", "inetorgperson"].map { "include: file:///etc/ldap/schema/\($0).ldif" }.joined(separator: "\n\n")
        let config = """
        dn: cn=config
        objectClass: olcGlobal
        cn: config
        olcPidFile: \(folder.path)/slapd.pid
        \(tlsConfig)
        dn: cn=module{0},cn=config
        objectClass: olcModuleList
        cn: module{0}
        olcModulePath: /usr/lib/ldap
        olcModuleLoad: back_mdb

        dn: cn=schema,cn=config
        objectClass: olcSchemaConfig
        cn: schema

        \(schemas)

        dn: olcDatabase={-1}frontend,cn=config
        objectClass: olcDatabaseConfig
        objectClass: olcFrontendConfig
        olcDatabase: {-1}frontend

        dn: olcDatabase={0}config,cn=config
        objectClass: olcDatabaseConfig
        olcDatabase: {0}config
        olcAccess: {0}to * by * none

        dn: olcDatabase={1}mdb,cn=config
        objectClass: olcDatabaseConfig
        objectClass: olcMdbConfig
        olcDatabase: {1}mdb
        olcSuffix: \(Self.suffix)
        olcRootDN: \(Self.adminDN)
        olcRootPW: \(Self.adminPassword)
        olcDbDirectory: \(dataFolder.path)
        olcAccess: {0}to attrs=userPassword by anonymous auth by self write by * none
        olcAccess: {1}to * by * read

        """
        var data = """
        dn: \(Self.suffix)
        objectClass: dcObject
        objectClass: organization
        o: Example
        dc: example

        dn: ou=people,\(Self.suffix)
        objectClass: organizationalUnit
        ou: people

        dn: ou=groups,\(Self.suffix)
        objectClass: organizationalUnit
        ou: groups
        """
        data += "\n\n"
        for person in people {
            data += """
            dn: \(Self.dn(of: person.uid))
            objectClass: inetOrgPerson
            uid: \(person.uid)
            cn: \(person.name)
            sn: \(person.name.split(separator: " ").last ?? "x")
            mail: \(person.uid)@example.com
            userPassword: \(person.password)
            """
            data += "\n\n"
        }
        for (cn, members) in groups.sorted(by: { $0.key < $1.key }) {
            data += "dn: \(Self.groupDN(cn))\nobjectClass: groupOfNames\ncn: \(cn)\n"
            data += members.map { "member: \(Self.dn(of: $0))\n" }.joined() + "\n"
        }
        let configFile = folder.appendingPathComponent("config.ldif"), dataFile = folder.appendingPathComponent("data.ldif")
        try config.write(to: configFile, atomically: true, encoding: .utf8)
        try data.write(to: dataFile, atomically: true, encoding: .utf8)
        for (database, file) in [("0", configFile), ("1", dataFile)] {
            let load = try ChildProcess(executable: "/usr/sbin/slapadd", arguments: ["-n", database, "-F", configFolder.path, "-l", file.path])
            guard await load.waitForExit(timeout: .seconds(30)) == 0 else {
                throw TestServerError(message: "slapadd -n \(database) failed: \(load.output)")
            }
        }
        port = FreePort.next()
        // `-d 0` keeps slapd in the foreground, so the test owns the process and stops it by pid.
        process = try ChildProcess(executable: "/usr/sbin/slapd", arguments: ["-h", "ldap://127.0.0.1:\(port)/", "-F", configFolder.path, "-d", "0"])
        for _ in 0..<100 {
            if FreePort.accepts(port) { return }
            if process.exitStatus != nil { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        process.send(SIGKILL)
        throw TestServerError(message: "slapd did not start on port \(port): \(process.output)")
    }

    /// Stops slapd and removes its folder.
    public func stop() async {
        process.send(SIGTERM)
        if await process.waitForExit(timeout: .seconds(10)) == nil { process.send(SIGKILL) }
        try? FileManager.default.removeItem(at: folder)
    }
}
