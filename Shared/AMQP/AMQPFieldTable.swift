import CRabbitMQ
import Foundation

/// Calls `body` with `s` as `amqp_bytes_t`, valid only inside `body`.
func withBytes<R>(_ s: String, _ body: (amqp_bytes_t) -> R) -> R {
    var s = s
    return s.withUTF8 { utf8 in
        body(amqp_bytes_t(len: utf8.count, bytes: UnsafeMutableRawPointer(mutating: utf8.baseAddress)))
    }
}

/// Calls `body` with an `amqp_table_t` of `entries`, valid only inside `body`.
func withFieldTable<R>(_ entries: [(String, AMQPFieldValue)], _ body: (amqp_table_t) -> R) -> R {
    if entries.isEmpty { return body(herald_amqp_empty_table()) }
    let table = UnsafeMutablePointer<amqp_table_entry_t>.allocate(capacity: entries.count)
    var strings: [UnsafeMutablePointer<CChar>] = []
    defer {
        strings.forEach { free($0) }
        table.deallocate()
    }
    func bytes(_ s: String) -> amqp_bytes_t {
        let p = strdup(s)!
        strings.append(p)
        return amqp_bytes_t(len: strlen(p), bytes: UnsafeMutableRawPointer(p))
    }
    for (i, (key, value)) in entries.enumerated() {
        var v = amqp_field_value_t()
        switch value {
        case .string(let s):
            v.kind = UInt8(ascii: "S")
            v.value.bytes = bytes(s)
        case .int64(let n):
            v.kind = UInt8(ascii: "l")
            v.value.i64 = n
        case .bool(let b):
            v.kind = UInt8(ascii: "t")
            v.value.boolean = b ? 1 : 0
        }
        table[i] = amqp_table_entry_t(key: bytes(key), value: v)
    }
    return body(amqp_table_t(num_entries: Int32(entries.count), entries: table))
}

/// The entries of a received table that Herald's contracts use (strings, integers, booleans).
func readFieldTable(_ t: amqp_table_t) -> [String: AMQPFieldValue] {
    var result: [String: AMQPFieldValue] = [:]
    for i in 0..<Int(t.num_entries) {
        let e = t.entries[i]
        let key = AMQPIOLoop.string(e.key)
        switch e.value.kind {
        case UInt8(ascii: "S"), UInt8(ascii: "x"): result[key] = .string(AMQPIOLoop.string(e.value.value.bytes))
        case UInt8(ascii: "l"), UInt8(ascii: "L"): result[key] = .int64(e.value.value.i64)
        case UInt8(ascii: "I"): result[key] = .int64(Int64(e.value.value.i32))
        case UInt8(ascii: "i"): result[key] = .int64(Int64(e.value.value.u32))
        case UInt8(ascii: "s"): result[key] = .int64(Int64(e.value.value.i16))
        case UInt8(ascii: "b"): result[key] = .int64(Int64(e.value.value.i8))
        case UInt8(ascii: "t"): result[key] = .bool(e.value.value.boolean != 0)
        default: continue
        }
    }
    return result
}
