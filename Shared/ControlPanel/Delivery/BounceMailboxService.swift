import BounceReading
import BSON
import Foundation
import Mongo
import Security

/// The account's bounce and feedback-loop mailboxes, which bounce-fbl-reader reads: listed with
/// their last read, added after a test login, read again at once on request, removed. Passwords
/// are never shown back. Needs `channels:view` / `channels:edit`.
public struct BounceMailboxService: Sendable {
    public let mailboxes: MongoCollection<BounceMailbox>
    let audit: AuditLog

    public init(settings: MongoDatabase, audit: AuditLog) {
        mailboxes = settings.collection(BounceMailbox.collectionName, of: BounceMailbox.self)
        self.audit = audit
    }

    public func list(for identity: Identity) async throws -> [BounceMailbox] {
        try identity.require(.channels, .view)
        return try await mailboxes.find(["accountId": .string(identity.account._id)], options: FindOptions(sort: ["name": 1])).collect()
    }

    /// Adds a mailbox after logging in to it once (so a wrong host or password is said at once).
    public func add(_ mailbox: BounceMailbox, by identity: Identity) async throws -> BounceMailbox {
        try identity.require(.channels, .edit)
        var mailbox = mailbox
        mailbox._id = ObjectId().hex
        mailbox.accountId = identity.account._id
        guard !mailbox.name.trimmingCharacters(in: .whitespaces).isEmpty else { throw InvalidInput("name", "name_required") }
        guard !mailbox.host.isEmpty, (1...65_535).contains(mailbox.port) else { throw InvalidInput("host", "invalid_setting", "give the POP3 server's host and port (110, or 995 for POP3S)") }
        guard (10...86_400).contains(mailbox.intervalSeconds) else { throw InvalidInput("intervalSeconds", "invalid_setting", "every 10 to 86,400 seconds") }
        do {
            _ = try await mailbox.client.session { try await $0.list().count }
        } catch {
            throw InvalidInput("host", "invalid_value", "\(error)")
        }
        try await mailboxes.insertOne(mailbox)
        try await audit.record(identity.actor, "bounce_mailbox.create", kind: "bounce_mailbox", id: mailbox._id, name: mailbox.name,
                               changes: [.init(field: "server", before: nil, after: "\(mailbox.user)@\(mailbox.host):\(mailbox.port) (\(mailbox.security.rawValue))")])
        return mailbox
    }

    func mailbox(_ id: String, for identity: Identity) async throws -> BounceMailbox {
        guard let filter = SecurityStore.byId(id, in: identity.account._id), let mailbox = try await mailboxes.findOne(filter) else {
            throw ObjectNotFound("bounce_mailbox", id)
        }
        return mailbox
    }

    /// Makes the mailbox due now: bounce-fbl-reader reads it within seconds.
    public func readNow(_ id: String, by identity: Identity) async throws {
        try identity.require(.channels, .edit)
        var mailbox = try await mailbox(id, for: identity)
        mailbox.lastReadAt = nil
        _ = try await mailboxes.replaceOne(filter: ["_id": .string(mailbox._id)], replacement: mailbox)
    }

    public func delete(_ id: String, by identity: Identity) async throws {
        try identity.require(.channels, .edit)
        let mailbox = try await mailbox(id, for: identity)
        _ = try await mailboxes.deleteOne(["_id": .string(mailbox._id), "accountId": .string(identity.account._id)])
        try await audit.record(identity.actor, "bounce_mailbox.delete", kind: "bounce_mailbox", id: mailbox._id, name: mailbox.name)
    }
}
