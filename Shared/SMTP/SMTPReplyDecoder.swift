import NIOCore

/// Splits a server's bytes into replies: lines `ddd-text` continue a reply, `ddd text` (or a bare
/// `ddd`) ends it. A line that is not a reply line closes the connection with an error.
struct SMTPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPReply

    /// Lines of the reply being read.
    private var lines: [String] = []
    /// RFC 5321 allows reply lines of 512 octets; anything far beyond that is not SMTP.
    private let maximumLineLength = 8192

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > maximumLineLength { throw SMTPError.protocolViolation("a reply line longer than \(maximumLineLength) bytes") }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex
        var line = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        if line.readableBytesView.last == UInt8(ascii: "\r") { line.moveWriterIndex(to: line.writerIndex - 1) }
        let bytes = line.readableBytesView
        guard bytes.count >= 3, bytes.prefix(3).allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw SMTPError.protocolViolation("not a reply line: \(String(decoding: bytes.prefix(80), as: UTF8.self))")
        }
        let code = bytes.prefix(3).reduce(0) { $0 * 10 + Int($1 - 0x30) }
        let separator = bytes.count > 3 ? bytes[bytes.startIndex + 3] : UInt8(ascii: " ")
        lines.append(bytes.count > 4 ? String(decoding: bytes.dropFirst(4), as: UTF8.self) : "")
        if separator == UInt8(ascii: "-") { return .continue }
        let reply = SMTPReply(code: code, lines: lines)
        lines.removeAll(keepingCapacity: true)
        context.fireChannelRead(wrapInboundOut(reply))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue, buffer.readableBytes > 0 {}
        return .needMoreData
    }
}
