/// Bytes already in memory (a paste, a test's file) as the block stream an upload reads.
public enum ByteBlocks {
    public static func single(_ bytes: [UInt8]) -> AsyncThrowingStream<[UInt8], any Error> {
        AsyncThrowingStream { continuation in
            continuation.yield(bytes)
            continuation.finish()
        }
    }
}
