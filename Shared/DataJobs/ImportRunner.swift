import Audiences
import BSON
import CustomerData
import Foundation
import Imports
import Logging
import Mongo

/// Runs one import job: reads the file in batches, checks every mapped cell against its field,
/// writes the good rows through ``ProfileWriter``, records every bad row with its line, column
/// and reason, keeps the job's counters current, and stops when asked to.
public struct ImportRunner: Sendable {
    let jobs: JobStore
    let databases: MongoCollection<ProfileDatabase>
    let writer: ProfileWriter
    let logger: Logger

    public init(jobs: JobStore, databases: MongoCollection<ProfileDatabase>, writer: ProfileWriter, logger: Logger) {
        self.jobs = jobs
        self.databases = databases
        self.writer = writer
        self.logger = logger
    }

    /// Runs the job with this id. A job already finished is left alone (a redelivered request);
    /// one found running (job-server stopped mid-way) starts again: rows already written come out
    /// unchanged.
    public func run(jobId: String) async throws {
        guard var job = try await jobs.jobs.findOne(["_id": .string(jobId)]) else {
            logger.warning("import job not found; dropping the request", metadata: ["job": "\(jobId)"])
            return
        }
        guard !job.state.isFinished, job.state != .uploaded else { return }
        guard let database = try await databases.findOne(["_id": .string(job.databaseId), "accountId": .string(job.accountId)]) else {
            try await finish(&job, state: .failed, message: "the profile database no longer exists")
            return
        }
        _ = try await jobs.errors.deleteMany(["jobId": .string(job._id)])
        job.counters = .init()
        _ = try await jobs.jobs.updateOne(filter: ["_id": .string(job._id)], update: [
            "$set": ["state": "running", "counters.read": 0, "counters.created": 0, "counters.updated": 0, "counters.unchanged": 0,
                     "counters.skipped": 0, "counters.rejected": 0, "message": ""],
            "$currentDate": ["startedAt": true],
        ])
        logger.info("import started", metadata: ["job": "\(job._id)", "file": "\(job.fileName)", "database": "\(database._id)"])
        do {
            var headerSkipped = !job.hasHeader
            let source = job.format == .profiles ? try await sourceDatabase(of: job) : nil
            let sync = job.format == .sql ? try await sqlSync(of: job) : nil
            var sourceFilter: BSONDocument?
            if let source, let segmentId = job.sourceSegmentId {
                sourceFilter = try await AudienceQuery(database: writer.store.profiles.database)
                    .filter(ofSegment: segmentId, in: source, segments: databases.database.collection(Segment.collectionName, of: Segment.self))
            }
            let batches = source.map { ImportTable.batches(of: $0, in: writer.store, filter: sourceFilter) }
                ?? sync.map { ImportTable.batches(of: $0) } ?? ImportTable.batches(of: job, in: jobs)
            var cursorIndex: Int?
            var lastCursor: String?
            for try await batch in batches {
                // A stopping job-server leaves the job to start over on the next delivery.
                try Task.checkCancellation()
                var rows = batch.rows
                if !headerSkipped, !rows.isEmpty {
                    let header = rows.removeFirst()
                    headerSkipped = true
                    if let sync {
                        // An SQL sync maps by column name; the query decides the order.
                        job.mapping = header.fields.enumerated().map { .init(column: $0.offset, header: $0.element, field: sync.mapping[$0.element] ?? "") }
                        cursorIndex = header.fields.firstIndex(of: sync.cursorColumn)
                    }
                }
                if let cursorIndex, let last = rows.last, cursorIndex < last.fields.count { lastCursor = last.fields[cursorIndex] }
                try await process(rows, problems: batch.problems, job: &job, database: database)
                if try await cancelRequested(job) {
                    try await finish(&job, state: .cancelled, message: "cancelled after \(job.counters.read) rows")
                    return
                }
            }
            if let sync, let lastCursor {
                _ = try await jobs.syncs.updateOne(filter: ["_id": .string(sync._id)], update: ["$set": ["lastCursor": .string(lastCursor)]])
            }
            let c = job.counters
            try await finish(&job, state: .succeeded, message: "\(c.read) rows: \(c.created) created, \(c.updated) updated, \(c.unchanged) unchanged, \(c.skipped) skipped, \(c.rejected) rejected")
        } catch let error as ImportTable.WrongFile {
            try await finish(&job, state: .failed, message: error.message)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            logger.error("import failed", metadata: ["job": "\(job._id)", "error": "\(error)"])
            try await finish(&job, state: .failed, message: "the import stopped: \(error)")
        }
    }

    func process(_ batch: [DelimitedTextReader.Row], problems: [DelimitedTextReader.Problem], job: inout ImportJob, database: ProfileDatabase) async throws {
        // Blank rows (a spreadsheet's skipped rows, empty lines) are not rows.
        let rows = batch.filter { row in row.fields.contains { !$0.trimmingCharacters(in: .whitespaces).isEmpty } }
        var errors = problems.map { ImportRowError(jobId: job._id, line: $0.line, column: "", reason: $0.message) }
        var valid: [ProfileWriter.Row] = []
        let mapped = job.mapping.compactMap { column -> (ImportJob.ColumnMapping, FieldDefinition)? in
            guard !column.field.isEmpty, var field = database.field(column.field) else { return nil }
            field.required = false  // checked on the whole profile by the writer
            return (column, field)
        }
        for row in rows {
            var values: [(String, BSONValue)] = []
            var failure: ImportRowError?
            for (column, field) in mapped {
                let cell = column.column < row.fields.count ? row.fields[column.column] : ""
                switch FieldValueParser.parse(.text(cell), as: field) {
                case .success(.null): continue  // an empty cell leaves the field as it is
                case .success(let value): values.append((field.key, value))
                case .failure(let problem):
                    failure = ImportRowError(jobId: job._id, line: row.line, column: column.header, reason: problem.message)
                }
                if failure != nil { break }
            }
            if let failure { errors.append(failure) } else { valid.append(.init(line: row.line, values: values)) }
        }
        let outcomes = try await writer.write(valid, to: database, mode: job.mode, source: "import")
        var counters = job.counters
        counters.read += Int64(rows.count + problems.count)
        counters.rejected += Int64(errors.count)
        for (row, outcome) in zip(valid, outcomes) {
            switch outcome {
            case .created: counters.created += 1
            case .updated: counters.updated += 1
            case .unchanged: counters.unchanged += 1
            case .skipped: counters.skipped += 1
            case .rejected(let reason):
                counters.rejected += 1
                errors.append(ImportRowError(jobId: job._id, line: row.line, column: "", reason: reason))
            }
        }
        if !errors.isEmpty { _ = try await jobs.errors.insertMany(errors, ordered: false) }
        job.counters = counters
        _ = try await jobs.jobs.updateOne(filter: ["_id": .string(job._id)], update: ["$set": [
            "counters.read": .int64(counters.read), "counters.created": .int64(counters.created), "counters.updated": .int64(counters.updated),
            "counters.unchanged": .int64(counters.unchanged), "counters.skipped": .int64(counters.skipped), "counters.rejected": .int64(counters.rejected),
        ]])
    }

    func sourceDatabase(of job: ImportJob) async throws -> ProfileDatabase {
        guard let id = job.sourceDatabaseId, let source = try await databases.findOne(["_id": .string(id), "accountId": .string(job.accountId)]) else {
            throw ImportTable.WrongFile(message: "the database to copy from no longer exists")
        }
        return source
    }

    func sqlSync(of job: ImportJob) async throws -> SQLSync {
        guard let id = job.syncId, let sync = try await jobs.syncs.findOne(["_id": .string(id), "accountId": .string(job.accountId)]) else {
            throw ImportTable.WrongFile(message: "the SQL sync no longer exists")
        }
        return sync
    }

    func cancelRequested(_ job: ImportJob) async throws -> Bool {
        try await jobs.jobs.findOne(["_id": .string(job._id)])?.cancelRequestedAt != nil
    }

    func finish(_ job: inout ImportJob, state: ImportJob.State, message: String) async throws {
        job.state = state
        job.message = message
        _ = try await jobs.jobs.updateOne(filter: ["_id": .string(job._id)], update: [
            "$set": ["state": .string(state.rawValue), "message": .string(message)], "$currentDate": ["finishedAt": true],
        ])
        try await jobs.removeFile(of: job)
        logger.info("import finished", metadata: ["job": "\(job._id)", "state": "\(state.rawValue)", "summary": "\(message)"])
    }
}
