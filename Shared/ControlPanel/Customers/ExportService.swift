import Audiences
import AMQP
import BSON
import CustomerData
import DataJobs
import Foundation
import Mongo
import Security
import ServiceSupport

/// Exports as the panel and the API see them: queue one, watch it, download its file. Both the
/// export and each download are sensitive reads, recorded in the audit log.
public struct ExportService: Sendable {
    let jobs: JobStore
    let customers: CustomerDataService
    let amqp: AMQPConnection?
    let audit: AuditLog

    public init(jobs: JobStore, customers: CustomerDataService, amqp: AMQPConnection?, audit: AuditLog) {
        self.jobs = jobs
        self.customers = customers
        self.amqp = amqp
        self.audit = audit
    }

    /// Starts an export of the database's profiles, or only of `segment`'s (one of its segments).
    public func start(_ databaseId: String, format: ExportJob.Format, segment: Segment? = nil, by identity: Identity) async throws -> ExportJob {
        try identity.require(.profiles, .export)
        let database = try await customers.database(databaseId, for: identity)
        if let segment, segment.databaseId != database._id || segment.accountId != identity.account._id { throw ObjectNotFound("segment", segment._id) }
        var job = ExportJob(accountId: identity.account._id, databaseId: database._id, createdBy: identity.user.login, format: format)
        job.segmentId = segment?._id
        job.segmentName = segment?.name
        try await jobs.exports.insertOne(job)
        do {
            guard let amqp else { throw InvalidInput("state", "import_no_broker") }
            try await amqp.publish(try JobRequestConsumer.request(for: job))
        } catch {
            _ = try await jobs.exports.updateOne(filter: ["_id": .string(job._id)], update: ["$set": ["state": "failed", "message": "the job queue was not reachable"]])
            throw error
        }
        try await audit.record(identity.actor, "export.start", kind: "database", id: database._id, name: database.name,
                               changes: [.init(field: "format", before: nil, after: format.rawValue), .init(field: "segment", before: nil, after: segment?.name)].filter { $0.after != nil })
        return job
    }

    public func job(_ id: String, for identity: Identity) async throws -> ExportJob {
        try identity.require(.profiles, .export)
        guard ObjectId(id) != nil, let job = try await jobs.exports.findOne(["_id": .string(id), "accountId": .string(identity.account._id)]) else {
            throw ObjectNotFound("export", id)
        }
        return job
    }

    public func list(in databaseId: String, for identity: Identity) async throws -> [ExportJob] {
        guard identity.can(.profiles, .export) else { return [] }
        let database = try await customers.database(databaseId, for: identity)
        return try await jobs.exports.find(["accountId": .string(identity.account._id), "databaseId": .string(database._id)],
                                          options: FindOptions(sort: ["createdAt": -1], limit: 20)).collect()
    }

    /// The finished file, chunk by chunk, with its name; the download is audited.
    public func download(_ id: String, by identity: Identity) async throws -> (ExportJob, String, BoundedStream<[UInt8]>) {
        let job = try await job(id, for: identity)
        guard job.state == .succeeded else { throw InvalidInput("state", "export_not_ready", job.state.rawValue) }
        let database = try await customers.database(job.databaseId, for: identity)
        try await audit.record(identity.actor, "export.download", kind: "database", id: database._id, name: database.name,
                               changes: [.init(field: "profiles", before: nil, after: String(job.written))])
        return (job, job.fileName(database: database.name), jobs.file(id: job._id, chunkCount: job.chunkCount))
    }
}
