import Foundation
import SMTP

/// mta-sender's settings from configuration (docs/configuration.md, `mta.*`).
public struct MailSenderConfiguration: Sendable {
    /// Sends every message through one smarthost instead of to the recipients' MX hosts.
    public struct Relay: Sendable {
        public var host: String
        public var port: Int
        public var credentials: SMTPClient.Credentials?
        public var tls: SMTPClient.TLSPolicy
        public init(host: String, port: Int = 587, credentials: SMTPClient.Credentials? = nil, tls: SMTPClient.TLSPolicy = .required) {
            self.host = host
            self.port = port
            self.credentials = credentials
            self.tls = tls
        }
    }

    /// This node's name in reports and events (`mta.node`).
    public var node: String
    /// The EHLO name (`mta.helo`): the sending host's reverse DNS name.
    public var heloName: String
    /// The port MX hosts are reached on (`mta.smtp.port`, 25; tests use another).
    public var smtpPort: Int
    /// The STARTTLS policy when a destination rule sets none (`mta.tls`).
    public var tls: SMTPClient.TLSPolicy
    /// Extra trusted certificate authorities for `verified` TLS (`mta.tls.trusted`).
    public var trustedCertificates: String?
    /// The name server (`mta.dns.server`, host:port); the system's when nil.
    public var dnsServer: String?
    public var relay: Relay?
    /// Deliveries taken from the bulk and retry queues before acknowledging (`mta.prefetch`).
    public var prefetch: Int
    /// How often settings (rules, pools, keys, controls) are read again and the node reports.
    public var refreshInterval: Duration

    public init(
        node: String, heloName: String, smtpPort: Int = 25, tls: SMTPClient.TLSPolicy = .opportunistic, trustedCertificates: String? = nil,
        dnsServer: String? = nil, relay: Relay? = nil, prefetch: Int = 2000, refreshInterval: Duration = .seconds(2)
    ) {
        self.node = node
        self.heloName = heloName
        self.smtpPort = smtpPort
        self.tls = tls
        self.trustedCertificates = trustedCertificates
        self.dnsServer = dnsServer
        self.relay = relay
        self.prefetch = prefetch
        self.refreshInterval = refreshInterval
    }
}
