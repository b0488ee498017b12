import Foundation

/// Events the broker could not take, kept on local disk until it can: each batch a file
/// (`<time>-<n>.batch`, written to a temporary name, flushed to disk, then renamed, so a crash
/// never leaves half a batch), read back oldest first and removed once the broker confirmed it.
public final class EventSpool: @unchecked Sendable {
    // @unchecked Sendable: the counter is guarded by `lock`; files are written once under unique names.
    public let directory: URL
    private let lock = NSLock()
    private var counter = 0

    public init(directory: URL) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// Keeps one batch's bytes durably.
    public func store(_ bytes: [UInt8]) throws {
        let name = lock.withLock {
            counter += 1
            return String(format: "%016llx-%08x.batch", UInt64(Date().timeIntervalSince1970 * 1_000_000), counter)
        }
        let temporary = directory.appendingPathComponent(name + ".tmp"), final = directory.appendingPathComponent(name)
        guard FileManager.default.createFile(atPath: temporary.path, contents: Data(bytes)) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary.path])
        }
        let handle = try FileHandle(forWritingTo: temporary)
        try handle.synchronize()
        try handle.close()
        try FileManager.default.moveItem(at: temporary, to: final)
    }

    /// The kept batches, oldest first.
    public func pending() -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".batch") }.sorted().map { directory.appendingPathComponent($0) }
    }

    public func read(_ file: URL) throws -> [UInt8] { Array(try Data(contentsOf: file)) }

    public func remove(_ file: URL) { try? FileManager.default.removeItem(at: file) }

    public var count: Int { pending().count }
}
