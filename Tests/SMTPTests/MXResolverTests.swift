import DNS
import HeraldTesting
import Testing

@Suite("MX lookup against dnsmasq")
struct MXResolverTests {
    @Test("MX hosts by preference with their addresses; implicit MX; NXDOMAIN; an MX host without an address")
    func routes() async throws {
        let dns = try await DNSServer(
            mx: [
                ("shop.test", "mx2.mail.test", 20), ("shop.test", "mx1.mail.test", 10),
                ("other.test", "mx1.mail.test", 10),
                ("broken.test", "nowhere.test", 10),
            ],
            addresses: [("mx1.mail.test", "127.0.0.1"), ("mx2.mail.test", "127.0.0.2"), ("implicit.test", "127.0.0.3")])
        let resolver = MXResolver(server: dns.address)

        let shop = try await resolver.route(for: "shop.test")
        #expect(shop.hosts.map(\.name) == ["mx1.mail.test", "mx2.mail.test"])
        #expect(shop.hosts.map(\.addresses) == [["127.0.0.1"], ["127.0.0.2"]])
        #expect(!shop.isImplicit)
        #expect(shop.site == "mx1.mail.test")
        #expect(try await resolver.route(for: "OTHER.test").site == shop.site, "domains on the same MX share a site (MX rollup)")

        let implicit = try await resolver.route(for: "implicit.test")
        #expect(implicit.isImplicit)
        #expect(implicit.hosts.map(\.addresses) == [["127.0.0.3"]])

        await #expect(throws: MailRouteError.noSuchDomain("missing.test")) { try await resolver.route(for: "missing.test") }
        await #expect { try await resolver.route(for: "broken.test") } throws: { error in
            (error as? MailRouteError)?.isPermanent == false
        }
    }

    @Test("an unreachable name server is a temporary failure")
    func unreachable() async throws {
        let resolver = MXResolver(server: "127.0.0.1:\(FreePort.next())")
        await #expect { try await resolver.route(for: "shop.test") } throws: { error in
            (error as? MailRouteError)?.isPermanent == false
        }
    }
}
