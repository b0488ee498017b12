import Foundation
import HeraldTesting
import Hummingbird

/// A real HTTP service on a loopback port for data-source tests: `/recs` answers JSON about the
/// e-mail asked for, `/slow` answers after 60 s, `/broken` answers 500, `/text` answers text; it
/// counts the requests it got.
final class LocalHTTPService: @unchecked Sendable {
    let port: Int
    private let task: Task<Void, any Error>
    private let counter = Counter()

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func add() { lock.lock(); value += 1; lock.unlock() }
        var count: Int { lock.lock(); defer { lock.unlock() }; return value }
    }

    var requests: Int { counter.count }
    /// Slow answers finished so far.
    var slowAnswered: Int { slowDone.count }
    private let slowDone = Counter()
    var url: String { "http://127.0.0.1:\(port)" }

    init() async throws {
        port = FreePort.next()
        let router = Router()
        let counter = self.counter, slowDone = self.slowDone
        router.get("/recs") { request, _ -> Response in
            counter.add()
            let email = request.uri.queryParameters["email"].map(String.init) ?? ""
            let token = request.headers[.authorization] ?? ""
            let body = #"{"for": "\#(email)", "token": "\#(token)", "items": [{"title": "Skis", "price": 990, "url": "https://shop.example/skis"}, {"title": "Poles", "price": 49.5, "url": "https://shop.example/poles"}]}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        router.get("/slow") { _, _ -> Response in
            counter.add()
            try await Task.sleep(for: .seconds(60))
            slowDone.add()
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "[]")))
        }
        router.get("/broken") { _, _ -> Response in
            counter.add()
            return Response(status: .internalServerError)
        }
        router.get("/text") { _, _ -> Response in
            counter.add()
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "hello, not json")))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        task = Task { try await app.runService(gracefulShutdownSignals: []) }
        for _ in 0..<100 {
            if FreePort.accepts(port) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        task.cancel()
        throw TestServerError(message: "the local HTTP service did not start on \(port)")
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}
