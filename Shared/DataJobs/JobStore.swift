import BSON
import Foundation
import ServiceSupport
import Mongo

/// Import jobs in the settings store: the jobs, their uploaded files (in 1 MiB chunks, so no
/// shared file system is needed between control and job-server), and their rejected rows.
public struct JobStore: Sendable {
    public let jobs: MongoCollection<ImportJob>
    public let chunks: MongoCollection<FileChunk>
    public let errors: MongoCollection<ImportRowError>
    public let exports: MongoCollection<ExportJob>
    public let syncs: MongoCollection<SQLSync>
    public let segmentSyncs: MongoCollection<SegmentSync>

    public static let chunkSize = 1 << 20

    public struct FileChunk: Codable, Sendable {
        /// `<job id>:<index>`.
        public var _id: String
        public var jobId: String
        public var index: Int
        public var data: Data
    }

    public init(database: MongoDatabase) {
        jobs = database.collection("import_jobs", of: ImportJob.self)
        chunks = database.collection("import_files", of: FileChunk.self)
        errors = database.collection("import_errors", of: ImportRowError.self)
        exports = database.collection("export_jobs", of: ExportJob.self)
        syncs = database.collection("sql_syncs", of: SQLSync.self)
        segmentSyncs = database.collection("segment_syncs", of: SegmentSync.self)
    }

    public func prepare() async throws {
        try await jobs.createIndexes([IndexModel(keys: ["accountId": 1, "databaseId": 1, "createdAt": -1], name: "account_database_created")])
        try await chunks.createIndexes([IndexModel(keys: ["jobId": 1, "index": 1], name: "job_index")])
        try await errors.createIndexes([IndexModel(keys: ["jobId": 1, "line": 1], name: "job_line")])
        try await syncs.createIndexes([IndexModel(keys: ["nextRun": 1], name: "next_run"), IndexModel(keys: ["accountId": 1, "databaseId": 1], name: "account_database")])
        try await segmentSyncs.createIndexes([IndexModel(keys: ["nextRun": 1], name: "next_run"), IndexModel(keys: ["accountId": 1, "segmentId": 1], name: "account_segment")])
        try await exports.createIndexes([IndexModel(keys: ["accountId": 1, "databaseId": 1, "createdAt": -1], name: "account_database_created")])
    }

    public func job(_ id: String, account: String) async throws -> ImportJob? {
        try await jobs.findOne(["_id": .string(id), "accountId": .string(account)])
    }

    /// Stores a file from a stream of byte blocks of any size, in chunks; returns the bytes stored.
    public func storeFile(for job: inout ImportJob, from blocks: some AsyncSequence<[UInt8], any Error>, limit: Int64) async throws -> Int64 {
        let (size, count) = try await storeChunks(id: job._id, from: blocks, limit: limit)
        job.size = size
        job.chunkCount = count
        return size
    }

    /// Stores bytes under `id` in 1 MiB chunks; returns the size and the number of chunks.
    public func storeChunks(id: String, from blocks: some AsyncSequence<[UInt8], any Error>, limit: Int64) async throws -> (Int64, Int) {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(Self.chunkSize)
        var index = 0, size: Int64 = 0
        func flush() async throws {
            try await chunks.insertOne(FileChunk(_id: "\(id):\(index)", jobId: id, index: index, data: Data(buffer)))
            index += 1
            buffer.removeAll(keepingCapacity: true)
        }
        for try await block in blocks {
            size += Int64(block.count)
            guard size <= limit else { throw FileTooLarge(limit: limit) }
            var rest = block[...]
            while !rest.isEmpty {
                let take = min(Self.chunkSize - buffer.count, rest.count)
                buffer.append(contentsOf: rest.prefix(take))
                rest = rest.dropFirst(take)
                if buffer.count == Self.chunkSize { try await flush() }
            }
        }
        if !buffer.isEmpty { try await flush() }
        return (size, index)
    }

    public struct FileTooLarge: Error, Sendable {
        public let limit: Int64
    }

    /// The stored file, chunk by chunk.
    public func file(of job: ImportJob) -> BoundedStream<[UInt8]> {
        file(id: job._id, chunkCount: job.chunkCount)
    }

    /// The chunks stored under `id`, in order, each read when the reader is ready for it.
    public func file(id: String, chunkCount: Int) -> BoundedStream<[UInt8]> {
        let chunks = chunks
        return BoundedStream { yield in
            for index in 0..<chunkCount {
                guard let chunk = try await chunks.findOne(["_id": .string("\(id):\(index)")]) else {
                    throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "chunk \(index) of the uploaded file is missing"])
                }
                try await yield([UInt8](chunk.data))
            }
        }
    }

    /// The stored file written to a temporary file (spreadsheets are read from a path); the caller removes it.
    public func temporaryCopy(of job: ImportJob) async throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("herald-import-\(job._id).\(job.format.rawValue)")
        FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        for try await chunk in file(of: job) { try handle.write(contentsOf: chunk) }
        return url
    }

    /// Removes a job's file (kept until the job ends, then no longer needed).
    public func removeFile(of job: ImportJob) async throws {
        _ = try await chunks.deleteMany(["jobId": .string(job._id)])
    }
}
