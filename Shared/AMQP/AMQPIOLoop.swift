import CRabbitMQ
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The connection thread: owns the `amqp_connection_state_t` and every piece of state that goes with it.
final class AMQPIOLoop: @unchecked Sendable {
    // @unchecked Sendable: librabbitmq's connection state is not thread-safe (its documentation: "a
    // connection should be used by one thread at a time"). Everything below `// MARK: Thread-owned`
    // is read and written only by `thread`; other threads talk to it through `shared` and the wake pipe.

    private struct Shared {
        var commands: [AMQPCommand] = []
        var wakePending = false
        /// The thread is (about to be) blocked in poll(): only then does a new command need the pipe.
        var polling = false
        var started = false
        var closeRequested = false
        var abrupt = false
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
        var finished = false
    }

    let configuration: AMQPConfiguration
    let logger: Logger
    private let shared = Mutex(Shared())
    private let connected = Atomic<Bool>(false)
    private let connections = Atomic<Int>(0)
    private let lastErrorBox = Mutex<AMQPError?>(nil)
    private let wakeRead: Int32
    private let wakeWrite: Int32

    init(configuration: AMQPConfiguration, logger: Logger) {
        self.configuration = configuration
        var l = logger
        l[metadataKey: "amqp.broker"] = "\(configuration.host):\(configuration.port)"
        self.logger = l
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0, "pipe() failed: \(errno)")
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        wakeRead = fds[0]
        wakeWrite = fds[1]
    }

    deinit {
        if let state { amqp_destroy_connection(state) }
        Glibc.close(wakeRead)
        Glibc.close(wakeWrite)
    }

    var isConnected: Bool { connected.load(ordering: .acquiring) }
    var connectionCount: Int { connections.load(ordering: .acquiring) }
    var lastError: AMQPError? { lastErrorBox.withLock { $0 } }

    func start() {
        let first = shared.withLock { s -> Bool in
            defer { s.started = true }
            return !s.started && !s.finished
        }
        guard first else { return }
        let thread = Thread { [self] in self.main() }
        thread.name = "amqp-\(configuration.connectionName)"
        thread.start()
    }

    /// Hands a command to the thread (commands after close fail at once).
    func enqueue(_ command: AMQPCommand) {
        let (accepted, wake) = shared.withLock { s -> (Bool, Bool) in
            if s.closeRequested || s.finished { return (false, false) }
            s.commands.append(command)
            // A busy thread picks commands up on its next turn; a write per command would cost a
            // system call each (acks come one per delivery).
            let wake = s.polling && !s.wakePending
            if wake { s.wakePending = true }
            return (true, wake)
        }
        if !accepted {
            fail(command, AMQPError(.closed, message: "the AMQP connection to \(configuration.redactedURL) is closed"))
            return
        }
        if wake { wakeUp() }
    }

    private func wakeUp() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    func close(abruptly: Bool = false) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let resumeNow = shared.withLock { s -> Bool in
                if s.finished || !s.started {
                    s.finished = true
                    return true
                }
                s.closeRequested = true
                s.abrupt = s.abrupt || abruptly
                s.closeWaiters.append(c)
                return false
            }
            if resumeNow { c.resume() } else { wakeUp() }
        }
    }

    // MARK: Thread-owned

    private var state: amqp_connection_state_t?
    /// Bumped on every new connection; deliveries of an older one cannot be settled.
    private var generation: UInt64 = 0
    private var topology = AMQPTopology()
    private var consumers: [String: ConsumerRegistration] = [:]
    private var consumerOfChannel: [UInt16: ConsumerRegistration] = [:]
    private var nextConsumerChannel: UInt16 = 3
    /// Messages waiting for room in the confirm window, in order.
    private var waiting = Queue<(AMQPMessage, PublishGroup)>()
    /// Published, unconfirmed messages by ascending delivery tag.
    private var outstanding = Queue<Outstanding>()
    private var outstandingCount = 0
    private var nextDeliveryTag: UInt64 = 1
    /// Deliveries being assembled, by channel number (small numbers: an array beats hashing).
    private var partial = PartialDeliveries()
    private var acks = AckCoalescer()
    /// Consumers with deliveries not yet handed over (flushed after each pass over the socket).
    private var batched: [ConsumerRegistration] = []
    private var loggedDown = false

    private struct Outstanding {
        var tag: UInt64
        var message: AMQPMessage
        var group: PublishGroup
        var settled = false
    }

    private struct PartialDeliveries {
        private var slots: [PartialDelivery?] = []

        subscript(channel: UInt16) -> PartialDelivery? {
            get { Int(channel) < slots.count ? slots[Int(channel)] : nil }
            set {
                let i = Int(channel)
                if i >= slots.count { slots.append(contentsOf: repeatElement(nil, count: i + 1 - slots.count)) }
                slots[i] = newValue
            }
        }

        /// Changes the delivery on `channel` in place (no copy of its body); nil when there is none.
        mutating func modify<R>(_ channel: UInt16, _ change: (inout PartialDelivery) -> R) -> R? {
            let i = Int(channel)
            guard i < slots.count, slots[i] != nil else { return nil }
            return change(&slots[i]!)
        }

        mutating func remove(_ channel: UInt16) -> PartialDelivery? {
            let i = Int(channel)
            guard i < slots.count else { return nil }
            defer { slots[i] = nil }
            return slots[i]
        }
    }

    private struct PartialDelivery {
        /// The consumer of the channel it arrived on (nil for a returned message, which is dropped).
        var consumer: ConsumerRegistration?
        var deliveryTag: UInt64
        var redelivered: Bool
        var exchange: String
        var routingKey: String
        var properties = AMQPProperties()
        var expected = -1
        var body: [UInt8] = []
    }

    private static let controlChannel: UInt16 = 1
    private static let publishChannel: UInt16 = 2

    private func main() {
        var delay = configuration.reconnectDelay
        while true {
            let (closing, abrupt) = shared.withLock { ($0.closeRequested, $0.abrupt) }
            if closing {
                shutdown(abrupt: abrupt)
                return
            }
            if state == nil {
                do {
                    try connect()
                    delay = configuration.reconnectDelay
                } catch {
                    noteDown(error)
                    sleepOnWakePipe(delay)
                    delay = min(delay * 2, configuration.maximumReconnectDelay)
                    drainCommandsWhileDisconnected()
                    continue
                }
            }
            runCommands()
            pumpPublishes()
            readFrames()
            // Held acknowledgements are looked at again within their hold limit.
            if state != nil { waitForActivity(milliseconds: acks.isHolding ? 20 : 250) }
        }
    }

    // MARK: Connecting

    private func connect() throws(AMQPError) {
        guard let conn = amqp_new_connection() else { throw AMQPError(.connection, message: "out of memory") }
        guard let socket = amqp_tcp_socket_new(conn) else {
            amqp_destroy_connection(conn)
            throw AMQPError(.connection, message: "cannot create a TCP socket")
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        let status = amqp_socket_open_noblock(socket, configuration.host, Int32(configuration.port), &timeout)
        guard status == AMQP_STATUS_OK.rawValue else {
            amqp_destroy_connection(conn)
            throw AMQPError(.connection, message: "cannot connect to \(configuration.host):\(configuration.port): \(String(cString: amqp_error_string2(status)))")
        }
        var rpcTimeout = timeval(tv_sec: 30, tv_usec: 0)
        _ = amqp_set_rpc_timeout(conn, &rpcTimeout)
        let login = withFieldTable([("connection_name", .string(configuration.connectionName)), ("product", .string("Herald"))]) { props in
            withUnsafePointer(to: props) { p in
                herald_amqp_login(conn, configuration.virtualHost, 131_072, Int32(configuration.heartbeat), p, configuration.user, configuration.password)
            }
        }
        if login.reply_type != AMQP_RESPONSE_NORMAL {
            let error = Self.describe(login, what: "login as '\(configuration.user)' to vhost '\(configuration.virtualHost)'")
            amqp_destroy_connection(conn)
            throw error
        }
        state = conn
        generation += 1
        nextDeliveryTag = 1
        partial = PartialDeliveries()
        do {
            try openChannel(Self.controlChannel)
            try openChannel(Self.publishChannel)
            _ = amqp_confirm_select(conn, Self.publishChannel)
            try checkReply(Self.publishChannel, "confirm.select")
            try declareNow(topology)
            nextConsumerChannel = 3
            consumerOfChannel = [:]
            for consumer in consumers.values { try subscribe(consumer) }
        } catch {
            dropConnection()
            throw error
        }
        // What was published but not confirmed goes out again, before anything newer.
        var requeued = Queue<(AMQPMessage, PublishGroup)>()
        while let o = outstanding.popFirst() {
            if !o.settled { requeued.append((o.message, o.group)) }
        }
        outstandingCount = 0
        while let w = waiting.popFirst() { requeued.append(w) }
        waiting = requeued
        connected.store(true, ordering: .releasing)
        connections.add(1, ordering: .releasing)
        lastErrorBox.withLock { $0 = nil }
        if loggedDown {
            logger.notice("AMQP connection restored", metadata: ["amqp.republishing": "\(waiting.count)"])
        } else {
            logger.info("AMQP connected")
        }
        loggedDown = false
    }

    private func noteDown(_ error: AMQPError) {
        lastErrorBox.withLock { $0 = error }
        if !loggedDown {
            logger.warning("AMQP broker unreachable; retrying with backoff", metadata: ["error": "\(error.message)"])
            loggedDown = true
        }
    }

    /// The connection broke: forget it; what it was doing is redone after the reconnect.
    private func connectionLost(_ error: AMQPError) {
        logger.warning("AMQP connection lost", metadata: ["error": "\(error.message)", "amqp.unconfirmed": "\(outstandingCount)"])
        dropConnection()
        noteDown(error)
    }

    private func dropConnection() {
        connected.store(false, ordering: .releasing)
        acks.reset()
        if let state {
            amqp_destroy_connection(state)
        }
        state = nil
        partial = PartialDeliveries()
    }

    private func openChannel(_ channel: UInt16) throws(AMQPError) {
        guard let state else { throw AMQPError(.connection, message: "not connected") }
        _ = amqp_channel_open(state, channel)
        try checkReply(channel, "channel.open")
    }

    /// Turns the reply of the last RPC into an error; a closed channel is acknowledged and reopened.
    private func checkReply(_ channel: UInt16, _ what: String) throws(AMQPError) {
        guard let state else { throw AMQPError(.connection, message: "not connected") }
        let reply = amqp_get_rpc_reply(state)
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_SERVER_EXCEPTION where reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD:
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            let error = AMQPError(.channelClosed, replyCode: Int(close.reply_code), message: "\(what): \(Self.string(close.reply_text))")
            _ = herald_amqp_channel_close_ok(state, channel)
            amqp_maybe_release_buffers(state)
            _ = amqp_channel_open(state, channel)
            if amqp_get_rpc_reply(state).reply_type != AMQP_RESPONSE_NORMAL {
                connectionLost(AMQPError(.connection, message: "cannot reopen channel \(channel)"))
            } else if channel == Self.publishChannel {
                _ = amqp_confirm_select(state, channel)
            }
            throw error
        default:
            let error = Self.describe(reply, what: what)
            if reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION { _ = herald_amqp_connection_close_ok(state) }
            connectionLost(error)
            throw error
        }
    }

    private static func describe(_ reply: amqp_rpc_reply_t, what: String) -> AMQPError {
        switch reply.reply_type {
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            if reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD {
                let c = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                return AMQPError(.connection, replyCode: Int(c.reply_code), message: "\(what): \(string(c.reply_text))")
            }
            return AMQPError(.connection, message: "\(what): the broker answered method \(reply.reply.id)")
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            return AMQPError(.connection, message: "\(what): \(String(cString: amqp_error_string2(reply.library_error)))")
        default:
            return AMQPError(.connection, message: "\(what): no reply")
        }
    }

    static func string(_ bytes: amqp_bytes_t) -> String {
        guard bytes.len > 0, let p = bytes.bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: bytes.len), as: UTF8.self)
    }

    // MARK: Topology

    private func declareNow(_ t: AMQPTopology) throws(AMQPError) {
        guard let state else { throw AMQPError(.connection, message: "not connected") }
        let ch = Self.controlChannel
        for e in t.exchanges {
            _ = withBytes(e.name) { name in
                withBytes(e.kind.rawValue) { kind in
                    amqp_exchange_declare(state, ch, name, kind, 0, e.durable ? 1 : 0, e.autoDelete ? 1 : 0, e.isInternal ? 1 : 0, herald_amqp_empty_table())
                }
            }
            try checkReply(ch, "declare exchange '\(e.name)'")
        }
        for q in t.queues {
            _ = withBytes(q.name) { name in
                withFieldTable(q.arguments) { args in
                    amqp_queue_declare(state, ch, name, 0, q.durable ? 1 : 0, q.exclusive ? 1 : 0, q.autoDelete ? 1 : 0, args)
                }
            }
            try checkReply(ch, "declare queue '\(q.name)'")
        }
        for b in t.bindings {
            _ = withBytes(b.queue) { queue in
                withBytes(b.exchange) { exchange in
                    withBytes(b.routingKey) { key in amqp_queue_bind(state, ch, queue, exchange, key, herald_amqp_empty_table()) }
                }
            }
            try checkReply(ch, "bind queue '\(b.queue)' to '\(b.exchange)' with '\(b.routingKey)'")
        }
    }

    private func subscribe(_ consumer: ConsumerRegistration) throws(AMQPError) {
        guard let state else { throw AMQPError(.connection, message: "not connected") }
        let ch = nextConsumerChannel
        nextConsumerChannel = nextConsumerChannel == UInt16.max ? 3 : nextConsumerChannel + 1
        try openChannel(ch)
        _ = amqp_basic_qos(state, ch, 0, consumer.prefetch, 0)
        try checkReply(ch, "basic.qos")
        _ = withBytes(consumer.queue) { queue in
            withBytes(consumer.tag) { tag in amqp_basic_consume(state, ch, queue, tag, 0, 0, 0, herald_amqp_empty_table()) }
        }
        try checkReply(ch, "consume from queue '\(consumer.queue)'")
        consumer.channel = ch
        consumerOfChannel[ch] = consumer
        acks.open(ch)
    }

    // MARK: Commands

    private func takeCommands() -> [AMQPCommand] {
        var drained: UInt8 = 0
        while read(wakeRead, &drained, 1) > 0 {}
        return shared.withLock { s in
            s.wakePending = false
            defer { s.commands.removeAll(keepingCapacity: true) }
            return s.commands
        }
    }

    private func runCommands() {
        let commands = takeCommands()
        for (i, command) in commands.enumerated() {
            guard state != nil else {
                // The connection broke under these commands: hand the rest back, in their order,
                // to be handled after the reconnect (or answered while disconnected).
                let rest = commands[i...]
                shared.withLock { $0.commands.insert(contentsOf: rest, at: 0) }
                break
            }
            run(command)
        }
        flushAcks()
    }

    /// Sends the acknowledgements the coalescer has for `channel`, all of them (before another
    /// settlement of that channel), or, with no channel, those due at the end of a turn.
    private func flushAcks(_ channel: UInt16? = nil) {
        let due: [(channel: UInt16, tag: UInt64, multiple: Bool)]
        if let channel {
            let (multiple, singles) = acks.takeAll(channel)
            due = (multiple.map { [(channel, $0, true)] } ?? []) + singles.map { (channel, $0, false) }
        } else {
            due = acks.takeDue()
        }
        for (ch, tag, multiple) in due {
            guard let state else { return }
            let status = amqp_basic_ack(state, ch, tag, multiple ? 1 : 0)
            if status != AMQP_STATUS_OK.rawValue {
                connectionLost(AMQPError(.connection, message: "acknowledging deliveries: \(String(cString: amqp_error_string2(status)))"))
                return
            }
        }
    }

    /// While disconnected: keep publishes and settlements for later, answer what cannot wait.
    private func drainCommandsWhileDisconnected() {
        for command in takeCommands() {
            switch command {
            case .publish(let messages, let group):
                for m in messages { waiting.append((m, group)) }
            case .declare(let t, let c):
                topology = topology.merging(t)
                c.resume()  // declared on connect, before anything is published
            case .consume(let registration, let c):
                consumers[registration.tag] = registration
                c.resume()  // subscribed on connect
            case .cancel(let tag):
                consumers.removeValue(forKey: tag)?.finish()
            case .settle:
                break  // the broker requeues whatever the lost connection had not settled
            case .deleteQueue(_, let c):
                c.resume(throwing: AMQPError(.connection, message: "not connected to \(configuration.redactedURL): \(lastError?.message ?? "")"))
            case .messageCount(_, let c):
                c.resume(throwing: AMQPError(.connection, message: "not connected to \(configuration.redactedURL): \(lastError?.message ?? "")"))
            }
        }
    }

    private func run(_ command: AMQPCommand) {
        guard let state else {
            shared.withLock { $0.commands.insert(command, at: 0) }  // only reached when called alone
            return
        }
        switch command {
        case .publish(let messages, let group):
            for m in messages { waiting.append((m, group)) }
        case .declare(let t, let c):
            do {
                try declareNow(t)
                topology = topology.merging(t)
                c.resume()
            } catch {
                if error.code == .connection {
                    topology = topology.merging(t)  // declared again on reconnect
                    c.resume()
                } else {
                    c.resume(throwing: error)
                }
            }
        case .consume(let registration, let c):
            do {
                try subscribe(registration)
                consumers[registration.tag] = registration
                c.resume()
            } catch {
                if error.code == .connection {
                    consumers[registration.tag] = registration
                    c.resume()
                } else {
                    c.resume(throwing: error)
                }
            }
        case .cancel(let tag):
            guard let consumer = consumers.removeValue(forKey: tag) else { return }
            if consumer.channel != 0 {
                flushAcks(consumer.channel)
                _ = withBytes(tag) { amqp_basic_cancel(state, consumer.channel, $0) }
                _ = amqp_channel_close(state, consumer.channel, Int32(AMQP_REPLY_SUCCESS))
                consumerOfChannel.removeValue(forKey: consumer.channel)
            }
            consumer.finish()
        case .settle(let gen, let channel, let tag, let how):
            guard gen == generation else { return }  // that delivery's connection is gone; it will be redelivered
            if case .ack(multiple: false) = how, acks.absorb(channel: channel, tag: tag) { return }
            flushAcks(channel)
            guard let state = self.state else { return }
            let (status, multiple): (Int32, Bool) = switch how {
            case .ack(let multiple): (amqp_basic_ack(state, channel, tag, multiple ? 1 : 0), multiple)
            case .nack(let multiple, let requeue): (amqp_basic_nack(state, channel, tag, multiple ? 1 : 0, requeue ? 1 : 0), multiple)
            case .reject(let requeue): (amqp_basic_reject(state, channel, tag, requeue ? 1 : 0), false)
            }
            acks.sent(channel: channel, tag: tag, multiple: multiple)
            if status != AMQP_STATUS_OK.rawValue {
                connectionLost(AMQPError(.connection, message: "settling a delivery: \(String(cString: amqp_error_string2(status)))"))
            }
        case .deleteQueue(let name, let c):
            let ok = withBytes(name) { amqp_queue_delete(state, Self.controlChannel, $0, 0, 0) }
            let count = ok.map { Int($0.pointee.message_count) } ?? 0
            do {
                try checkReply(Self.controlChannel, "delete queue '\(name)'")
                topology.queues.removeAll { $0.name == name }
                topology.bindings.removeAll { $0.queue == name }
                c.resume(returning: count)
            } catch {
                c.resume(throwing: error)
            }
        case .messageCount(let name, let c):
            let ok = withBytes(name) { amqp_queue_declare(state, Self.controlChannel, $0, 1, 0, 0, 0, herald_amqp_empty_table()) }
            let count = ok.map { Int($0.pointee.message_count) } ?? 0
            do {
                try checkReply(Self.controlChannel, "inspect queue '\(name)'")
                c.resume(returning: count)
            } catch {
                c.resume(throwing: error)
            }
        }
    }

    private func fail(_ command: AMQPCommand, _ error: AMQPError) {
        switch command {
        case .publish(_, let group): group.fail(error)
        case .declare(_, let c), .consume(_, let c): c.resume(throwing: error)
        case .deleteQueue(_, let c), .messageCount(_, let c): c.resume(throwing: error)
        case .cancel, .settle: break
        }
    }

    // MARK: Publishing

    private func pumpPublishes() {
        while let state, outstandingCount < configuration.confirmWindow, let (message, group) = waiting.popFirst() {
            let status = send(message, on: state)
            if status != AMQP_STATUS_OK.rawValue {
                waiting.prepend((message, group))
                connectionLost(AMQPError(.connection, message: "publishing: \(String(cString: amqp_error_string2(status)))"))
                // The messages still outstanding are requeued on reconnect.
                return
            }
            outstanding.append(Outstanding(tag: nextDeliveryTag, message: message, group: group))
            outstandingCount += 1
            nextDeliveryTag += 1
        }
    }

    /// Bytes of the string properties of the message being published: one buffer, reused, instead
    /// of an allocation per property per message.
    private var scratch: [UInt8] = []

    private func send(_ message: AMQPMessage, on state: amqp_connection_state_t) -> Int32 {
        let m = message.properties
        scratch.removeAll(keepingCapacity: true)
        // Where each property's bytes are in `scratch`; pointers are made once it stops growing.
        var spans: [(field: Int32, offset: Int, count: Int)] = []
        func add(_ s: String, _ flag: Int32) {
            let offset = scratch.count
            scratch.append(contentsOf: s.utf8)
            spans.append((flag, offset, scratch.count - offset))
        }
        var flags: amqp_flags_t = amqp_flags_t(AMQP_BASIC_DELIVERY_MODE_FLAG)
        if let v = m.contentType { add(v, AMQP_BASIC_CONTENT_TYPE_FLAG) }
        if let v = m.messageId { add(v, AMQP_BASIC_MESSAGE_ID_FLAG) }
        if let v = m.type { add(v, AMQP_BASIC_TYPE_FLAG) }
        if let v = m.appId { add(v, AMQP_BASIC_APP_ID_FLAG) }
        if let v = m.correlationId { add(v, AMQP_BASIC_CORRELATION_ID_FLAG) }
        if let v = m.replyTo { add(v, AMQP_BASIC_REPLY_TO_FLAG) }
        if let v = m.expiration { add(String(v), AMQP_BASIC_EXPIRATION_FLAG) }
        return scratch.withUnsafeMutableBytes { raw -> Int32 in
            var props = amqp_basic_properties_t()
            props.delivery_mode = m.persistent ? 2 : 1
            for span in spans {
                let bytes = amqp_bytes_t(len: span.count, bytes: raw.baseAddress.map { $0 + span.offset })
                flags |= amqp_flags_t(span.field)
                switch span.field {
                case AMQP_BASIC_CONTENT_TYPE_FLAG: props.content_type = bytes
                case AMQP_BASIC_MESSAGE_ID_FLAG: props.message_id = bytes
                case AMQP_BASIC_TYPE_FLAG: props.type = bytes
                case AMQP_BASIC_APP_ID_FLAG: props.app_id = bytes
                case AMQP_BASIC_CORRELATION_ID_FLAG: props.correlation_id = bytes
                case AMQP_BASIC_REPLY_TO_FLAG: props.reply_to = bytes
                default: props.expiration = bytes
                }
            }
            if let v = m.timestamp { props.timestamp = UInt64(max(0, v.timeIntervalSince1970)); flags |= amqp_flags_t(AMQP_BASIC_TIMESTAMP_FLAG) }
            props._flags = flags
            let publish = { (headers: amqp_table_t) -> Int32 in
                props.headers = headers
                if !m.headers.isEmpty { props._flags |= amqp_flags_t(AMQP_BASIC_HEADERS_FLAG) }
                return message.body.withUnsafeBytes { body in
                    let b = amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress))
                    return withBytes(message.exchange) { exchange in
                        withBytes(message.routingKey) { key in
                            amqp_basic_publish(state, Self.publishChannel, exchange, key, 0, 0, &props, b)
                        }
                    }
                }
            }
            if m.headers.isEmpty { return publish(herald_amqp_empty_table()) }
            return withFieldTable(m.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, publish)
        }
    }

    private func confirm(upTo tag: UInt64, multiple: Bool, error: AMQPError?) {
        func settle(_ o: inout Outstanding) {
            guard !o.settled else { return }
            o.settled = true
            outstandingCount -= 1
            if let error { o.group.fail(error) } else { o.group.confirmOne() }
        }
        if multiple {
            while var o = outstanding.first, o.tag <= tag {
                settle(&o)
                _ = outstanding.popFirst()
            }
        } else {
            outstanding.withElement(where: { $0.tag == tag }) { settle(&$0) }
            while let o = outstanding.first, o.settled { _ = outstanding.popFirst() }
        }
    }

    // MARK: Reading

    private func readFrames() {
        var frame = amqp_frame_t()
        var zero = timeval(tv_sec: 0, tv_usec: 0)
        var handled = 0
        while let state, handled < 2_000 {
            let status = amqp_simple_wait_frame_noblock(state, &frame, &zero)
            if status == AMQP_STATUS_TIMEOUT.rawValue { break }
            guard status == AMQP_STATUS_OK.rawValue else {
                connectionLost(AMQPError(.connection, message: String(cString: amqp_error_string2(status))))
                return
            }
            handle(frame)
            handled += 1
            // Room in the window: send more while confirms come in.
            if handled % 64 == 0 { pumpPublishes() }
        }
        for consumer in batched { consumer.flush() }
        batched.removeAll(keepingCapacity: true)
        if let state { amqp_maybe_release_buffers(state) }
    }

    private func handle(_ frame: amqp_frame_t) {
        guard let state else { return }
        let ch = frame.channel
        switch Int32(frame.frame_type) {
        case AMQP_FRAME_METHOD:
            let id = frame.payload.method.id
            let decoded = frame.payload.method.decoded
            switch id {
            case AMQP_BASIC_ACK_METHOD:
                let ack = decoded!.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
                confirm(upTo: ack.delivery_tag, multiple: ack.multiple != 0, error: nil)
            case AMQP_BASIC_NACK_METHOD:
                let nack = decoded!.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
                confirm(upTo: nack.delivery_tag, multiple: nack.multiple != 0,
                        error: AMQPError(.publishRejected, message: "the broker could not take the message (basic.nack)"))
            case AMQP_BASIC_DELIVER_METHOD:
                let d = decoded!.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
                partial[ch] = PartialDelivery(consumer: consumerOfChannel[ch], deliveryTag: d.delivery_tag,
                                              redelivered: d.redelivered != 0, exchange: Self.string(d.exchange), routingKey: Self.string(d.routing_key))
            case AMQP_BASIC_RETURN_METHOD:
                partial[ch] = PartialDelivery(consumer: nil, deliveryTag: 0, redelivered: false, exchange: "", routingKey: "")
            case AMQP_BASIC_CANCEL_METHOD:
                let c = decoded!.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
                let tag = Self.string(c.consumer_tag)
                if let consumer = consumers.removeValue(forKey: tag) {
                    consumerOfChannel.removeValue(forKey: consumer.channel)
                    consumer.finish(throwing: AMQPError(.consumerCancelled, message: "the broker cancelled the consumer of queue '\(consumer.queue)'"))
                }
            case AMQP_CHANNEL_CLOSE_METHOD:
                let close = decoded!.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                let error = AMQPError(.channelClosed, replyCode: Int(close.reply_code), message: Self.string(close.reply_text))
                _ = herald_amqp_channel_close_ok(state, ch)
                channelClosedByBroker(ch, error)
            case AMQP_CONNECTION_CLOSE_METHOD:
                let close = decoded!.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                _ = herald_amqp_connection_close_ok(state)
                connectionLost(AMQPError(.connection, replyCode: Int(close.reply_code), message: Self.string(close.reply_text)))
            case AMQP_CONNECTION_BLOCKED_METHOD:
                logger.warning("AMQP broker blocked publishing (resource alarm)")
            case AMQP_CONNECTION_UNBLOCKED_METHOD:
                logger.notice("AMQP broker unblocked publishing")
            default:
                break
            }
        case AMQP_FRAME_HEADER:
            guard var p = partial[ch] else { return }
            p.expected = Int(frame.payload.properties.body_size)
            p.body.reserveCapacity(p.expected)
            if let decoded = frame.payload.properties.decoded {
                p.properties = Self.properties(decoded.assumingMemoryBound(to: amqp_basic_properties_t.self).pointee)
            }
            partial[ch] = p
            if p.expected == 0 { complete(ch) }
        case AMQP_FRAME_BODY:
            let fragment = frame.payload.body_fragment
            let done = partial.modify(ch) { p in
                if fragment.len > 0, let bytes = fragment.bytes {
                    p.body.append(contentsOf: UnsafeRawBufferPointer(start: bytes, count: fragment.len))
                }
                return p.body.count >= p.expected
            }
            if done == true { complete(ch) }
        default:
            break
        }
    }

    private func complete(_ ch: UInt16) {
        guard let p = partial.remove(ch), let consumer = p.consumer else { return }
        let delivery = AMQPDelivery(body: p.body, exchange: p.exchange, routingKey: p.routingKey, redelivered: p.redelivered,
                                    deliveryTag: p.deliveryTag, properties: p.properties,
                                    settle: DeliverySettlement(loop: self, generation: generation, channel: ch))
        if consumer.deliver(delivery) { batched.append(consumer) }
    }

    private func channelClosedByBroker(_ ch: UInt16, _ error: AMQPError) {
        logger.warning("AMQP channel closed by the broker", metadata: ["amqp.channel": "\(ch)", "error": "\(error)"])
        guard let state else { return }
        if ch == Self.publishChannel {
            // Which message caused it is unknown: fail every unconfirmed one with the broker's reason.
            while let o = outstanding.popFirst() {
                if !o.settled { o.group.fail(error) }
            }
            outstanding = Queue()
            outstandingCount = 0
            nextDeliveryTag = 1
            _ = amqp_channel_open(state, ch)
            _ = amqp_confirm_select(state, ch)
        } else if let consumer = consumerOfChannel.removeValue(forKey: ch) {
            acks.close(ch)  // the channel is gone; its deliveries return to the queue
            consumers.removeValue(forKey: consumer.tag)
            consumer.finish(throwing: error)
        } else if ch == Self.controlChannel {
            _ = amqp_channel_open(state, ch)
        }
        if amqp_get_rpc_reply(state).reply_type != AMQP_RESPONSE_NORMAL {
            connectionLost(AMQPError(.connection, message: "cannot reopen channel \(ch) after: \(error.message)"))
        }
    }

    static func properties(_ p: amqp_basic_properties_t) -> AMQPProperties {
        let f = p._flags
        func has(_ flag: Int32) -> Bool { f & amqp_flags_t(flag) != 0 }
        var result = AMQPProperties()
        if has(AMQP_BASIC_MESSAGE_ID_FLAG) { result.messageId = string(p.message_id) }
        if has(AMQP_BASIC_TYPE_FLAG) { result.type = string(p.type) }
        if has(AMQP_BASIC_CONTENT_TYPE_FLAG) { result.contentType = string(p.content_type) }
        if has(AMQP_BASIC_CORRELATION_ID_FLAG) { result.correlationId = string(p.correlation_id) }
        if has(AMQP_BASIC_REPLY_TO_FLAG) { result.replyTo = string(p.reply_to) }
        if has(AMQP_BASIC_APP_ID_FLAG) { result.appId = string(p.app_id) }
        if has(AMQP_BASIC_TIMESTAMP_FLAG) { result.timestamp = Date(timeIntervalSince1970: TimeInterval(p.timestamp)) }
        if has(AMQP_BASIC_DELIVERY_MODE_FLAG) { result.persistent = p.delivery_mode == 2 }
        if has(AMQP_BASIC_HEADERS_FLAG) { result.headers = readFieldTable(p.headers) }
        if has(AMQP_BASIC_EXPIRATION_FLAG) { result.expiration = Int(string(p.expiration)) }
        return result
    }

    // MARK: Waiting

    private func waitForActivity(milliseconds: Int32) {
        guard let state else { return }
        if amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0 { return }
        if outstandingCount < configuration.confirmWindow && !waiting.isEmpty { return }
        let idle = shared.withLock { s -> Bool in
            guard s.commands.isEmpty else { return false }
            s.polling = true
            return true
        }
        guard idle else { return }
        var fds = [pollfd(fd: amqp_get_sockfd(state), events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        _ = poll(&fds, 2, milliseconds)
        shared.withLock { $0.polling = false }
    }

    private func sleepOnWakePipe(_ delay: Duration) {
        let ms = Int32(clamping: delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)
        shared.withLock { $0.polling = true }
        var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        _ = poll(&fds, 1, max(1, ms))
        shared.withLock { $0.polling = false }
    }

    // MARK: Closing

    private func shutdown(abrupt: Bool) {
        // What was handed over before the close (settlements above all) still goes out.
        if state != nil { runCommands() }
        if let state, !abrupt {
            // Let what is in flight be confirmed, for up to 5 s.
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: .seconds(5))
            runCommands()
            while self.state != nil, (outstandingCount > 0 || !waiting.isEmpty), clock.now < deadline {
                pumpPublishes()
                readFrames()
                waitForActivity(milliseconds: 50)
            }
            runCommands()
            if self.state != nil {
                _ = amqp_connection_close(state, Int32(AMQP_REPLY_SUCCESS))
            }
        }
        if let state {
            if abrupt { shutdownSocket(state) }
            amqp_destroy_connection(state)
            self.state = nil
        }
        connected.store(false, ordering: .releasing)
        let closed = AMQPError(.closed, message: "the AMQP connection to \(configuration.redactedURL) was closed")
        while let o = outstanding.popFirst() {
            if !o.settled { o.group.fail(closed) }
        }
        while let (_, group) = waiting.popFirst() { group.fail(closed) }
        for consumer in consumers.values { consumer.finish() }
        consumers = [:]
        let (leftovers, waiters) = shared.withLock { s -> ([AMQPCommand], [CheckedContinuation<Void, Never>]) in
            s.finished = true
            defer { s.commands = []; s.closeWaiters = [] }
            return (s.commands, s.closeWaiters)
        }
        for c in leftovers { fail(c, closed) }
        logger.info("AMQP connection closed")
        for w in waiters { w.resume() }
    }

    private func shutdownSocket(_ state: amqp_connection_state_t) {
        let fd = amqp_get_sockfd(state)
        if fd >= 0 { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
    }
}
