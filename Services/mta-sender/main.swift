import Foundation
import Hummingbird
import MailSending
import ServiceSupport
import SMTP

// mta-sender: delivers the email queues over SMTP; many nodes share them through RabbitMQ.
await HeraldService.main(.mtaSender, context: BasicRequestContext.self) { _, context in
    let config = context.config
    let hostname = ProcessInfo.processInfo.hostName
    let tlsName = config.string(forKey: "mta.tls", default: "opportunistic")
    guard let tls = SMTPClient.TLSPolicy(rawValue: tlsName) else {
        throw ConfigurationError(key: "mta.tls", message: "'\(tlsName)' is not a TLS policy; give disabled, opportunistic, required or verified")
    }
    var relay: MailSenderConfiguration.Relay?
    let relayHost = config.string(forKey: "mta.relay.host", default: "")
    if !relayHost.isEmpty {
        let relayTLSName = config.string(forKey: "mta.relay.tls", default: "required")
        guard let relayTLS = SMTPClient.TLSPolicy(rawValue: relayTLSName) else {
            throw ConfigurationError(key: "mta.relay.tls", message: "'\(relayTLSName)' is not a TLS policy; give disabled, opportunistic, required or verified")
        }
        let user = config.string(forKey: "mta.relay.user", default: "")
        relay = .init(host: relayHost, port: config.int(forKey: "mta.relay.port", default: 587),
                      credentials: user.isEmpty ? nil : .init(user: user, password: config.string(forKey: "mta.relay.password", isSecret: true, default: "")),
                      tls: relayTLS)
    }
    let trusted = config.string(forKey: "mta.tls.trusted", default: "")
    let dns = config.string(forKey: "mta.dns.server", default: "")
    let configuration = MailSenderConfiguration(
        node: config.string(forKey: "mta.node", default: "\(hostname)-\(getpid())"),
        heloName: config.string(forKey: "mta.helo", default: hostname),
        smtpPort: config.int(forKey: "mta.smtp.port", default: 25),
        tls: tls, trustedCertificates: trusted.isEmpty ? nil : trusted, dnsServer: dns.isEmpty ? nil : dns, relay: relay,
        prefetch: config.int(forKey: "mta.prefetch", default: 2000))
    let settings = context.settings.database(context.configuration.settingsDatabase)
    return [MailSender(configuration: configuration, amqp: context.amqp, settings: settings, logger: context.logger)]
}
