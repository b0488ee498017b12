import Audiences
import BSON
import CustomerData
import Foundation
import Logging
import Mongo

/// Runs one export: streams a database's profiles from a cursor into CSV (1 MiB chunks straight
/// into the store) or XLSX (libxlsxwriter in constant-memory mode, then stored), with a live
/// count. Memory stays flat whatever the size. The file keeps field keys as headers and values in
/// the forms an import reads back.
public struct ExportRunner: Sendable {
    let jobs: JobStore
    let databases: MongoCollection<ProfileDatabase>
    let profiles: ProfileStore
    let logger: Logger

    public init(jobs: JobStore, databases: MongoCollection<ProfileDatabase>, profiles: ProfileStore, logger: Logger) {
        self.jobs = jobs
        self.databases = databases
        self.profiles = profiles
        self.logger = logger
    }

    public func run(jobId: String) async throws {
        guard let job = try await jobs.exports.findOne(["_id": .string(jobId)]), !job.state.isFinished else { return }
        guard let database = try await databases.findOne(["_id": .string(job.databaseId), "accountId": .string(job.accountId)]) else {
            try await finish(job, state: .failed, message: "the profile database no longer exists", size: 0, chunks: 0)
            return
        }
        _ = try await jobs.chunks.deleteMany(["jobId": .string(job._id)])
        _ = try await jobs.exports.updateOne(filter: ["_id": .string(job._id)], update: ["$set": ["state": "running", "written": 0]])
        let keys = database.fields.map(\.key)
        do {
            var filter: BSONDocument = ["accountId": .string(database.accountId), "databaseId": .string(database._id)]
            if let segmentId = job.segmentId {
                filter = try await AudienceQuery(database: profiles.profiles.database)
                    .filter(ofSegment: segmentId, in: database, segments: databases.database.collection(Segment.collectionName, of: Segment.self))
            }
            let cursor = profiles.profiles.find(filter, options: FindOptions(sort: ["_id": 1], batchSize: 1000))
            let (size, chunks, written): (Int64, Int, Int64)
            switch job.format {
            case .csv:
                var writer = ChunkedOutput(id: job._id, store: jobs)
                try await writer.append(Array((["id"] + keys).map(Self.csvField).joined(separator: ",").utf8) + [13, 10])
                var count: Int64 = 0
                for try await profile in cursor {
                    let line = ([profile._id] + keys.map { StoredValueText.text(profile[field: $0]) }).map(Self.csvField).joined(separator: ",")
                    try await writer.append(Array(line.utf8) + [13, 10])
                    count += 1
                    if count % 5000 == 0 { try await progress(job, count) }
                }
                (size, chunks) = try await writer.finish()
                written = count
            case .xlsx:
                let url = FileManager.default.temporaryDirectory.appendingPathComponent("herald-export-\(job._id).xlsx")
                defer { try? FileManager.default.removeItem(at: url) }
                let sheet = try XLSXSheetWriter(path: url.path, sheetName: String(database.name.prefix(31)))
                try sheet.append((["id"] + keys).map { .text($0) })
                var count: Int64 = 0
                for try await profile in cursor {
                    try sheet.append([.text(profile._id)] + keys.map { Self.cell(profile[field: $0]) })
                    count += 1
                    if count % 5000 == 0 { try await progress(job, count) }
                }
                try sheet.close()
                (size, chunks) = try await jobs.storeChunks(id: job._id, from: FileBlocks(url: url), limit: .max)
                written = count
            }
            _ = try await jobs.exports.updateOne(filter: ["_id": .string(job._id)], update: ["$set": ["written": .int64(written)]])
            try await finish(job, state: .succeeded, message: "\(written) profiles", size: size, chunks: chunks)
        } catch {
            logger.error("export failed", metadata: ["job": "\(job._id)", "error": "\(error)"])
            try await finish(job, state: .failed, message: "the export stopped: \(error)", size: 0, chunks: 0)
        }
    }

    func progress(_ job: ExportJob, _ count: Int64) async throws {
        _ = try await jobs.exports.updateOne(filter: ["_id": .string(job._id)], update: ["$set": ["written": .int64(count)]])
    }

    func finish(_ job: ExportJob, state: ImportJob.State, message: String, size: Int64, chunks: Int) async throws {
        _ = try await jobs.exports.updateOne(filter: ["_id": .string(job._id)], update: [
            "$set": ["state": .string(state.rawValue), "message": .string(message), "size": .int64(size), "chunkCount": .int64(Int64(chunks))],
            "$currentDate": ["finishedAt": true],
        ])
        logger.info("export finished", metadata: ["job": "\(job._id)", "state": "\(state.rawValue)", "summary": "\(message)"])
    }

    static func cell(_ value: BSONValue?) -> XLSXSheetWriter.Cell {
        switch value {
        case nil, .null?: .empty
        case .int32(let n)?: .number(Double(n))
        case .int64(let n)?: abs(n) < 1 << 53 ? .number(Double(n)) : .text(String(n))
        case .double(let n)?: .number(n)
        case .bool(let b)?: .bool(b)
        default: .text(StoredValueText.text(value))
        }
    }

    /// RFC 4180: quoted when it holds a comma, a quote, a line break or edge spaces.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) || text.hasPrefix(" ") || text.hasSuffix(" ") else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// Bytes appended in any sizes, stored in 1 MiB chunks as they fill.
struct ChunkedOutput {
    let id: String
    let store: JobStore
    var buffer: [UInt8] = []
    var index = 0
    var size: Int64 = 0

    init(id: String, store: JobStore) {
        self.id = id
        self.store = store
        buffer.reserveCapacity(JobStore.chunkSize)
    }

    mutating func append(_ bytes: [UInt8]) async throws {
        buffer += bytes
        size += Int64(bytes.count)
        while buffer.count >= JobStore.chunkSize {
            try await flush(Array(buffer.prefix(JobStore.chunkSize)))
            buffer.removeFirst(JobStore.chunkSize)
        }
    }

    mutating func flush(_ bytes: [UInt8]) async throws {
        try await store.chunks.insertOne(JobStore.FileChunk(_id: "\(id):\(index)", jobId: id, index: index, data: Data(bytes)))
        index += 1
    }

    mutating func finish() async throws -> (Int64, Int) {
        if !buffer.isEmpty { try await flush(buffer) }
        return (size, index)
    }
}

/// A file read in 1 MiB blocks.
public struct FileBlocks: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    let url: URL

    public init(url: URL) {
        self.url = url
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let handle: FileHandle?
        public mutating func next() async throws -> [UInt8]? {
            guard let handle, let data = try handle.read(upToCount: JobStore.chunkSize), !data.isEmpty else {
                try handle?.close()
                return nil
            }
            return [UInt8](data)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(handle: try? FileHandle(forReadingFrom: url)) }
}
