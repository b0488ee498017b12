import HeraldTesting
import LDAP
import Testing

/// Against a real slapd started for the suite.
@Suite(.serialized) struct LDAPDirectoryTests {
    static func withDirectory(_ body: (SlapdServer, LDAPSettings) async throws -> Void) async throws {
        let server = try await SlapdServer(
            people: [.init(uid: "alice", password: "alice-pw", name: "Alice Liddell"), .init(uid: "bob", password: "bob-pw", name: "Bob Stone"),
                     .init(uid: "o'neil, jr", password: "comma-pw", name: "Odd Name")],
            groups: ["marketing": ["alice"], "analysts": ["alice", "bob"]]
        )
        let settings = LDAPSettings(url: server.url, userDNTemplate: "uid={login},ou=people,dc=example,dc=com", groupBaseDN: "ou=groups,dc=example,dc=com",
                                    serviceBindDN: SlapdServer.adminDN, serviceBindPassword: SlapdServer.adminPassword, timeoutSeconds: 3)
        do {
            try await body(server, settings)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test func goodBindReturnsTheUserAndTheirGroups() async throws {
        try await Self.withDirectory { _, settings in
            let alice = try await LDAPDirectory(settings: settings).authenticate(username: "alice", password: "alice-pw")
            #expect(alice.dn == SlapdServer.dn(of: "alice"))
            #expect(alice.displayName == "Alice Liddell")
            #expect(alice.email == "alice@example.com")
            #expect(Set(alice.groupDNs.map { $0.lowercased() }) == [SlapdServer.groupDN("marketing"), SlapdServer.groupDN("analysts")])
            let bob = try await LDAPDirectory(settings: settings).authenticate(username: "bob", password: "bob-pw")
            #expect(bob.groupDNs.map { $0.lowercased() } == [SlapdServer.groupDN("analysts")])
        }
    }

    @Test func wrongPasswordUnknownUserAndEmptyPasswordAreInvalidCredentials() async throws {
        try await Self.withDirectory { _, settings in
            let directory = LDAPDirectory(settings: settings)
            for (user, password) in [("alice", "wrong"), ("nobody", "x"), ("alice", "")] {
                do {
                    _ = try await directory.authenticate(username: user, password: password)
                    Issue.record("\(user)/\(password) logged in")
                } catch let error as LDAPError {
                    #expect(error.isInvalidCredentials, "\(user): \(error)")
                }
            }
        }
    }

    @Test func loginsWithDNSpecialCharactersAreEscaped() async throws {
        try await Self.withDirectory { _, settings in
            let odd = try await LDAPDirectory(settings: settings).authenticate(username: "o'neil, jr", password: "comma-pw")
            #expect(odd.displayName == "Odd Name")
            // An injected DN fragment is a literal value, not a way into another entry.
            await #expect(throws: LDAPError.self) {
                _ = try await LDAPDirectory(settings: settings).authenticate(username: "alice,ou=people,dc=example,dc=com", password: "alice-pw")
            }
        }
        #expect(LDAPDirectory.escapeDNValue("a,b+c") == "a\\,b\\+c")
        #expect(LDAPDirectory.escapeFilterValue("x*)(uid=*") == "x\\2a\\29\\28uid=\\2a")
    }

    @Test func testConnectionReportsWhatItFoundAndFailsClearly() async throws {
        try await Self.withDirectory { server, settings in
            let summary = try await LDAPDirectory(settings: settings).testConnection()
            #expect(summary.contains("bound as \(SlapdServer.adminDN)"))
            #expect(summary.contains("found 3 entries"))  // ou=groups and its two groups
            var wrong = settings
            wrong.serviceBindPassword = "nope"
            await #expect(throws: LDAPError.self) { _ = try await LDAPDirectory(settings: wrong).testConnection() }
            var down = settings
            down.url = "ldap://127.0.0.1:\(FreePort.next())"
            do {
                _ = try await LDAPDirectory(settings: down).testConnection()
                Issue.record("connected to a closed port")
            } catch let error as LDAPError {
                #expect(!error.isInvalidCredentials)
                #expect(error.description.contains("Can't contact LDAP server"))
            }
            _ = server
        }
    }

    @Test func startTLSVerifiesTheServersCertificate() async throws {
        let server = try await SlapdServer(people: [.init(uid: "alice", password: "alice-pw", name: "Alice Liddell")], groups: [:], tls: true)
        do {
            let trusted = LDAPSettings(url: server.url, startTLS: true, userDNTemplate: "uid={login},ou=people,dc=example,dc=com",
                                       timeoutSeconds: 3, caCertificateFile: try #require(server.certificateFile))
            #expect(try await LDAPDirectory(settings: trusted).authenticate(username: "alice", password: "alice-pw").displayName == "Alice Liddell")
            // Without trusting the self-signed certificate, StartTLS fails, and says so: it is not a wrong password.
            var untrusted = trusted
            untrusted.caCertificateFile = ""
            do {
                _ = try await LDAPDirectory(settings: untrusted).authenticate(username: "alice", password: "alice-pw")
                Issue.record("StartTLS accepted an untrusted certificate")
            } catch let error as LDAPError {
                #expect(!error.isInvalidCredentials)
                #expect(error.operation == "StartTLS", "\(error)")
            }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test func settingsValidationNamesTheField() {
        let bad = LDAPSettings(url: "http://x", startTLS: false, userDNTemplate: "uid=alice", timeoutSeconds: 0)
        #expect(bad.validationErrors().map(\.field) == ["url", "userDNTemplate", "timeoutSeconds"])
    }
}
