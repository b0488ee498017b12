import Content
import Contracts
import CustomerData
import Foundation
import MIME
import SwiftProtobuf
import Templates
import Tracking

/// Makes one recipient's email, ready for mta-sender: the template rendered with the profile,
/// the campaign, the account's data sources and (for triggered sendings) the call's own data;
/// links tracked, an open pixel added; the headers receivers expect (List-Unsubscribe with
/// RFC 8058 one-click, Feedback-ID); the VERP return path. mta-sender signs it last.
public struct EmailBuilder: Sendable {
    public let tracked: TrackedMessage
    public let lookup: DataLookup?

    public init(tracked: TrackedMessage, lookup: DataLookup?) {
        self.tracked = tracked
        self.lookup = lookup
    }

    /// What one message is: to whom, from which run and variant, with which id.
    public struct Recipient: Sendable {
        public var profile: Profile
        public var address: String
        public var resource: String
        public var messageId: String
        public var variant: String
        public init(profile: Profile, address: String, resource: String, messageId: String, variant: String) {
            self.profile = profile
            self.address = address
            self.resource = resource
            self.messageId = messageId
            self.variant = variant
        }
    }

    /// Why a recipient's message could not be made.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// - Parameters:
    ///   - message: the variant's compiled content.
    ///   - content: the same content as stored (for the sender address and Reply-To).
    ///   - data: extra variables (a triggered sending's `data`).
    public func delivery(
        for recipient: Recipient, message: ComposedMessage, content: MessageContent, campaign: Campaign, transactional: Bool = false,
        data: [String: TemplateValue] = [:], at now: Date = Date()
    ) async throws(Failure) -> Herald_Delivery_V1_EmailDelivery {
        let profile = recipient.profile
        let (rendered, tracking, unsubscribe) = try await render(for: recipient, message: message, campaign: campaign, data: data)
        let fromAddress = content.fromAddress.trimmingCharacters(in: .whitespaces).lowercased()
        guard let at = fromAddress.lastIndex(of: "@") else {
            throw Failure(description: "the template has no sender address (fromAddress)")
        }
        let domain = String(fromAddress[fromAddress.index(after: at)...])
        let fromName = rendered["fromName"].trimmingCharacters(in: .whitespacesAndNewlines)
        let replyTo = content.replyTo.trimmingCharacters(in: .whitespaces)
        let mail = MailMessage(
            from: MailAddress(fromAddress, name: fromName.isEmpty ? nil : fromName), to: [MailAddress(recipient.address)],
            subject: rendered["subject"].trimmingCharacters(in: .whitespacesAndNewlines), text: rendered["text"],
            html: tracked.html(rendered["html"], for: tracking), replyTo: replyTo.isEmpty ? nil : MailAddress(replyTo), date: now,
            messageID: "\(recipient.messageId)@\(domain)", unsubscribeURL: unsubscribe,
            headers: [("Feedback-ID", "\(campaign._id.prefix(20)):\(campaign.accountId.prefix(20)):herald")])

        var delivery = Herald_Delivery_V1_EmailDelivery()
        delivery.meta = .new(account: campaign.accountId, producer: transactional ? "control" : "job-server", at: now)
        delivery.profile.databaseID = profile.databaseId
        delivery.profile.profileID = profile._id
        delivery.messageID = recipient.messageId
        delivery.campaignID = campaign._id
        delivery.variantID = recipient.variant
        delivery.senderID = domain
        delivery.mailFrom = tracked.returnPath(for: tracking)
        delivery.recipient = recipient.address
        delivery.mime = Data(mail.rendered())
        delivery.transactional = transactional
        delivery.ipPool = campaign.ipPool
        return delivery
    }

    /// Every part of one recipient's message rendered, with the tracking ids it was made for and its
    /// unsubscribe link.
    public func render(for recipient: Recipient, message: ComposedMessage, campaign: Campaign, data: [String: TemplateValue] = [:])
        async throws(Failure) -> (RenderedMessage, TrackedMessage.Recipient, String)
    {
        let profile = recipient.profile
        let tracking = TrackedMessage.Recipient(accountId: campaign.accountId, databaseId: profile.databaseId, messageId: recipient.messageId,
                                                profileId: profile._id, address: recipient.address, resource: recipient.resource)
        let unsubscribe = tracked.unsubscribeURL(for: tracking)
        var context: [String: TemplateValue] = [
            "profile": TemplateData.profile(profile),
            "message": ["id": .string(recipient.messageId), "unsubscribe_url": .string(unsubscribe), "variant": .string(recipient.variant),
                        "web_version_url": .string(tracked.webVersionURL(for: tracking))],
            "campaign": ["id": .string(campaign._id), "name": .string(campaign.name)],
        ]
        for (key, value) in data { context[key] = value }
        if let lookup {
            do {
                for (name, value) in try await lookup.values(for: message, profile: profile) { context[name] = value }
            } catch {
                throw Failure(description: error.description)
            }
        }
        do {
            return (try message.render(context), tracking, unsubscribe)
        } catch {
            throw Failure(description: error.description)
        }
    }

    /// The message id of a run's message to a profile: 24 hexadecimal digits from both, so that
    /// expanding the same run again gives the same ids.
    public static func messageId(run: String, profile: String, observer: String = "") -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325, second: UInt64 = 0x8422_2325_cbf2_9ce4
        for byte in "\(run)|\(profile)|\(observer)".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            second = (second &+ UInt64(byte)) &* 0x9E37_79B9_7F4A_7C15
        }
        return String(format: "%016llx%08llx", mix(hash), mix(second ^ hash) >> 32)
    }

    /// SplitMix64's finaliser: every input bit moves every output bit, so ids (and the A/B split
    /// taken from them) are uniform even for profile ids that differ in one character.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension EmailBuilder {
    /// The builder for messages of `content`: links signed for the tracker, the return path on its
    /// sending domain's return-path host, and the account's data sources. Throws `ContentErrors`
    /// when a data source is invalid.
    static func forContent(_ content: MessageContent, account: String, store: CampaignStore, library: TemplateLibrary,
                           signer: TrackingSigner, trackerURL: String) async throws -> EmailBuilder {
        let domain = content.fromAddress.lowercased().split(separator: "@").last.map(String.init) ?? ""
        let bounceDomain = try await store.returnPathDomain(for: domain)
        return EmailBuilder(tracked: TrackedMessage(signer: signer, base: trackerURL, bounceDomain: bounceDomain), lookup: try await library.lookup(account: account))
    }
}
