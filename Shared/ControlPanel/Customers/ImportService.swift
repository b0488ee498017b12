import Audiences
import AMQP
import BSON
import CustomerData
import DataJobs
import Foundation
import Mongo
import Security

/// Imports as the panel and the API see them: store an upload, preview it, confirm the mapping,
/// queue the job for job-server, watch its progress, cancel it, and read its rejected rows.
public struct ImportService: Sendable {
    public let jobs: JobStore
    let customers: CustomerDataService
    let amqp: AMQPConnection?
    let audit: AuditLog
    /// The largest file accepted.
    let maximumSize: Int64

    public init(settings: MongoDatabase, customers: CustomerDataService, amqp: AMQPConnection?, audit: AuditLog, maximumSize: Int64) {
        jobs = JobStore(database: settings)
        self.customers = customers
        self.amqp = amqp
        self.audit = audit
        self.maximumSize = maximumSize
    }

    /// Stores an upload as a new job (state `uploaded`) with a guessed column mapping.
    public func upload(fileName: String, format: ImportJob.Format?, into databaseId: String, body: some AsyncSequence<[UInt8], any Error>,
                       by identity: Identity) async throws -> ImportJob
    {
        try identity.require(.profiles, .import)
        let database = try await customers.database(databaseId, for: identity)
        let name = fileName.isEmpty ? "upload.csv" : String(fileName.split(separator: "/").last ?? "upload.csv")
        guard let format = format ?? ImportJob.Format(fileName: name) else { throw InvalidInput("format", "unknown_import_format", name) }
        var job = ImportJob(accountId: identity.account._id, databaseId: database._id, createdBy: identity.user.login, fileName: name, format: format)
        do {
            let size = try await jobs.storeFile(for: &job, from: body, limit: maximumSize)
            guard size > 0 else { throw InvalidInput("file", "empty_file") }
        } catch let error as JobStore.FileTooLarge {
            try await jobs.removeFile(of: job)
            throw InvalidInput("file", "file_too_large", String(error.limit >> 20))
        }
        do {
            let preview = try await ImportTable.preview(of: job, in: jobs)
            job.mapping = ColumnGuess.mapping(header: preview.header, database: database)
        } catch let error as ImportTable.WrongFile {
            try await jobs.removeFile(of: job)
            throw InvalidInput("file", "invalid_value", error.message)
        }
        try await jobs.jobs.insertOne(job)
        try await audit.record(identity.actor, "import.upload", kind: "import", id: job._id, name: name,
                               changes: [.init(field: "size", before: nil, after: String(job.size)), .init(field: "database", before: nil, after: database.name)])
        return job
    }

    /// A copy of every profile of `sourceId` into `targetId`, as an import job waiting for its
    /// mapping (matched by field keys): the same mapping, modes, progress and report as a file.
    /// Copies the profiles of another database — or of one of its segments — into `targetId`.
    public func copy(from sourceId: String, into targetId: String, segment: Segment? = nil, by identity: Identity) async throws -> ImportJob {
        try identity.require(.profiles, .import)
        try identity.require(.profiles, .export)
        let source = try await customers.database(sourceId, for: identity), target = try await customers.database(targetId, for: identity)
        guard source._id != target._id else { throw InvalidInput("source", "copy_to_itself") }
        var job = ImportJob(accountId: identity.account._id, databaseId: target._id, createdBy: identity.user.login, fileName: source.name, format: .profiles)
        job.sourceDatabaseId = source._id
        if let segment {
            guard segment.databaseId == source._id, segment.accountId == identity.account._id else { throw ObjectNotFound("segment", segment._id) }
            job.sourceSegmentId = segment._id
            job.fileName = "\(source.name) · \(segment.name)"
        }
        job.mapping = ColumnGuess.mapping(header: source.fields.map(\.key), database: target)
        try await jobs.jobs.insertOne(job)
        try await audit.record(identity.actor, "import.copy", kind: "import", id: job._id, name: source.name,
                               changes: [.init(field: "from", before: nil, after: source.name), .init(field: "into", before: nil, after: target.name)])
        return job
    }

    public func job(_ id: String, for identity: Identity) async throws -> ImportJob {
        guard identity.can(.profiles, .import) || identity.can(.profiles, .view) else { throw AccessDenied("forbidden_action", "profiles:import") }
        guard ObjectId(id) != nil, let job = try await jobs.job(id, account: identity.account._id) else { throw ObjectNotFound("import", id) }
        return job
    }

    public func list(in databaseId: String, for identity: Identity) async throws -> [ImportJob] {
        let database = try await customers.database(databaseId, for: identity)
        return try await jobs.jobs.find(["accountId": .string(identity.account._id), "databaseId": .string(database._id)],
                                        options: FindOptions(sort: ["createdAt": -1], limit: 50)).collect()
    }

    public func preview(_ job: ImportJob) async throws -> ImportTable.Preview {
        if job.format == .profiles, let sourceId = job.sourceDatabaseId,
           let source = try await customers.databases.findOne(["_id": .string(sourceId), "accountId": .string(job.accountId)])
        {
            return try await ImportTable.preview(of: job, in: jobs, source: (source, customers.profiles))
        }
        return try await ImportTable.preview(of: job, in: jobs)
    }

    /// Confirms the mapping and mode and queues the job.
    public func start(_ id: String, mapping: [ImportJob.ColumnMapping]?, mode: ProfileWriter.Mode, hasHeader: Bool, by identity: Identity) async throws -> ImportJob {
        try identity.require(.profiles, .import)
        var job = try await job(id, for: identity)
        guard job.state == .uploaded else { throw InvalidInput("state", "import_not_startable", job.state.rawValue) }
        let database = try await customers.database(job.databaseId, for: identity)
        if mode != .add { try identity.require(.profiles, .edit) }
        if let mapping { job.mapping = mapping }
        job.mode = mode
        job.hasHeader = hasHeader
        for column in job.mapping where !column.field.isEmpty && database.field(column.field) == nil {
            throw InvalidInput("mapping", "unknown_field", column.field)
        }
        let targets = job.mapping.map(\.field).filter { !$0.isEmpty }
        if Set(targets).count != targets.count { throw InvalidInput("mapping", "mapping_twice") }
        if !database.identifiers.isEmpty, !targets.contains(where: { key in database.identifiers.contains { $0.key == key } }) {
            throw InvalidInput("mapping", "mapping_no_identifier", database.identifiers.map(\.key).joined(separator: ", "))
        }
        job.state = .queued
        _ = try await jobs.jobs.replaceOne(filter: ["_id": .string(job._id), "accountId": .string(job.accountId), "state": "uploaded"], replacement: job)
        do {
            guard let amqp else { throw InvalidInput("state", "import_no_broker") }
            try await amqp.publish(try JobRequestConsumer.request(for: job))
        } catch {
            // Not queued after all: back to the mapping page, nothing lost.
            _ = try await jobs.jobs.updateOne(filter: ["_id": .string(job._id)], update: ["$set": ["state": "uploaded"]])
            throw error
        }
        try await audit.record(identity.actor, "import.start", kind: "import", id: job._id, name: job.fileName, changes: [
            .init(field: "mode", before: nil, after: mode.rawValue), .init(field: "database", before: nil, after: database.name),
            .init(field: "mapping", before: nil, after: job.mapping.filter { !$0.field.isEmpty }.map { "\($0.header)→\($0.field)" }.joined(separator: ", ")),
        ])
        return job
    }

    public func cancel(_ id: String, by identity: Identity) async throws {
        try identity.require(.profiles, .import)
        let job = try await job(id, for: identity)
        guard !job.state.isFinished else { return }
        if job.state == .uploaded {
            _ = try await jobs.jobs.updateOne(filter: ["_id": .string(job._id)], update: ["$set": ["state": "cancelled", "message": "cancelled before it started"],
                                                                                         "$currentDate": ["finishedAt": true, "cancelRequestedAt": true]])
            try await jobs.removeFile(of: job)
        } else {
            _ = try await jobs.jobs.updateOne(filter: ["_id": .string(job._id)], update: ["$currentDate": ["cancelRequestedAt": true]])
        }
        try await audit.record(identity.actor, "import.cancel", kind: "import", id: job._id, name: job.fileName)
    }

    /// The rejected rows as CSV (line, column, reason), for download.
    public func errorsCSV(_ id: String, for identity: Identity) async throws -> String {
        let job = try await job(id, for: identity)
        var lines = ["line,column,reason"]
        for try await error in jobs.errors.find(["jobId": .string(job._id)], options: FindOptions(sort: ["line": 1])) {
            lines.append([String(error.line), error.column, error.reason].map(AuditCSV.field).joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
