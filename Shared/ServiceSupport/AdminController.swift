import Foundation
import Hummingbird
import Prometheus

/// `/health`, `/ready` and `/metrics`: what an operator's load balancer and Prometheus ask.
struct AdminController<Context: RequestContext> {
    let service: String
    let version: String
    let readiness: Readiness
    let registry: PrometheusCollectorRegistry
    let startedAt = Date()

    struct Health: ResponseEncodable {
        let status: String
        let service: String
        let version: String
        let uptimeSeconds: Int
    }

    struct Ready: ResponseEncodable {
        let ready: Bool
        let service: String
        let checks: [Readiness.Check]
    }

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        /// Alive: the process answers. Never depends on the stores or the broker.
        routes.get("health") { _, _ in
            Health(status: "ok", service: service, version: version, uptimeSeconds: Int(Date().timeIntervalSince(startedAt)))
        }
        /// Ready: both stores and the broker answered at the last check (503 otherwise, with the reasons).
        routes.get("ready") { _, _ -> Response in
            let ready = Ready(ready: readiness.isReady, service: service, checks: readiness.snapshot)
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.sortedKeys]
            let body = try encoder.encode(ready)
            return Response(
                status: ready.ready ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: body))
            )
        }
        /// Prometheus text exposition format 0.0.4.
        routes.get("metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(4096)
            registry.emit(into: &buffer)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer))
            )
        }
        return routes
    }
}
