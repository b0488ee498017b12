import BSON
import Foundation
import Logging
import Mongo
import ServiceLifecycle
import ServiceSupport

/// bounce-fbl-reader's loop: every few seconds it reads the enabled mailboxes that are due, and
/// in each: every message retrieved, acted on (``BounceProcessor``), and only then marked for
/// deletion; QUIT deletes them. A message that cannot be processed stays for the next read.
public struct BounceMailboxReader: Service {
    let mailboxes: MongoCollection<BounceMailbox>
    let processor: BounceProcessor
    let tick: Duration
    let logger: Logger

    public init(settings: MongoDatabase, processor: BounceProcessor, tick: Duration = .seconds(5), logger: Logger) {
        mailboxes = settings.collection(BounceMailbox.collectionName, of: BounceMailbox.self)
        self.processor = processor
        self.tick = tick
        self.logger = logger
    }

    public func run() async throws {
        await Periodically.run(every: tick, logger: logger, failure: "bounce mailboxes could not be listed") { try await readDue() }
    }

    /// Reads the mailboxes that are due now; returns how many messages were processed.
    @discardableResult
    public func readDue(now: Date = Date()) async throws -> Int {
        var processed = 0
        for mailbox in try await mailboxes.find(["enabled": true]).collect() {
            if let last = mailbox.lastReadAt, now.timeIntervalSince(last) < Double(mailbox.intervalSeconds) { continue }
            processed += try await read(mailbox)
        }
        return processed
    }

    /// Reads one mailbox now; records when and what came of it.
    @discardableResult
    public func read(_ mailbox: BounceMailbox) async throws -> Int {
        var result: String
        var processed = 0
        do {
            processed = try await mailbox.client.session { pop in
                var done = 0
                for (number, uid) in try await pop.list() {
                    let bytes = try await pop.retrieve(number)
                    do {
                        let outcomes = try await processor.process(bytes, account: mailbox.accountId, mailbox: mailbox.name)
                        try await pop.delete(number)
                        done += 1
                        logger.debug("bounce processed", metadata: ["mailbox": "\(mailbox.name)", "uid": "\(uid)", "bounces": "\(outcomes.count)"])
                    } catch {
                        logger.warning("a returned message could not be processed; it stays in the mailbox", metadata: ["mailbox": "\(mailbox.name)", "uid": "\(uid)", "error": "\(error)"])
                    }
                }
                return done
            }
            result = "\(processed) messages processed"
        } catch {
            result = "could not read the mailbox: \(error)"
            logger.warning("bounce mailbox unreadable", metadata: ["mailbox": "\(mailbox.name)", "error": "\(error)"])
        }
        var updated = mailbox
        updated.lastReadAt = Date()
        updated.lastResult = result
        if let current = try await mailboxes.findOne(["_id": .string(mailbox._id)]) {
            updated.enabled = current.enabled
            _ = try await mailboxes.replaceOne(filter: ["_id": .string(mailbox._id)], replacement: updated)
        }
        return processed
    }
}
