import AMQP
import Foundation
import Logging
import Metrics
import Mongo
import ServiceLifecycle
import Synchronization

/// Whether the stores and the broker answer, as last checked.
public final class Readiness: Sendable {
    /// One dependency's state.
    public struct Check: Sendable, Codable, Equatable {
        public var name: String
        public var target: String
        public var up: Bool
        public var error: String?
        public var checkedAt: Date?
    }

    private let checks: Mutex<[Check]>

    init(names: [(String, String)]) {
        checks = Mutex(names.map { Check(name: $0.0, target: $0.1, up: false, error: "being checked", checkedAt: nil) })
    }

    /// True when every dependency answered at the last check.
    public var isReady: Bool { checks.withLock { $0.allSatisfy(\.up) } }

    public var snapshot: [Check] { checks.withLock { $0 } }

    func record(_ name: String, up: Bool, error: String?) -> (changed: Bool, check: Check) {
        checks.withLock { all in
            guard let i = all.firstIndex(where: { $0.name == name }) else { preconditionFailure("unknown dependency \(name)") }
            let changed = all[i].up != up || all[i].checkedAt == nil
            all[i].up = up
            all[i].error = error
            all[i].checkedAt = Date()
            return (changed, all[i])
        }
    }
}

/// Checks the two stores and the broker on a schedule, logs each change of state once, and backs
/// off while something is down. The service keeps running either way: it reports not-ready
/// instead of crashing, and the clients reconnect by themselves.
struct DependencyMonitor: Service {
    let readiness: Readiness
    let settings: MongoClient
    let customers: MongoClient
    let amqp: AMQPConnection
    let interval: Duration
    let logger: Logger

    func run() async throws {
        let gauges = [
            "mongo_settings": Gauge(label: "herald_dependency_up", dimensions: [("dependency", "mongo_settings")]),
            "mongo_customers": Gauge(label: "herald_dependency_up", dimensions: [("dependency", "mongo_customers")]),
            "amqp": Gauge(label: "herald_dependency_up", dimensions: [("dependency", "amqp")]),
        ]
        // Stop at once on shutdown, even in the middle of a sleep.
        await cancelWhenGracefulShutdown { await loop(gauges) }
    }

    private func loop(_ gauges: [String: Gauge]) async {
        var delay = Duration.milliseconds(250)
        while !Task.isCancelled {
            // Each dependency is recorded as soon as it answers, so a slow one does not hide the others.
            let allUp = await withTaskGroup(of: Bool.self) { group in
                group.addTask { await record("mongo_settings", Self.probe { try await settings.ping() }, gauges) }
                group.addTask { await record("mongo_customers", Self.probe { try await customers.ping() }, gauges) }
                group.addTask {
                    let error = amqp.isConnected ? nil : "not connected to \(amqp.configuration.redactedURL): \(amqp.lastError?.message ?? "connecting")"
                    return record("amqp", error, gauges)
                }
                return await group.reduce(true) { $0 && $1 }
            }
            // Quick checks until everything is up, then the configured interval; backoff while down.
            delay = allUp ? interval : min(delay * 2, .seconds(15))
            try? await Task.sleep(for: delay)
        }
    }

    /// Stores one result, logs a change of state once, and returns whether the dependency is up.
    private func record(_ name: String, _ error: String?, _ gauges: [String: Gauge]) -> Bool {
        let (changed, check) = readiness.record(name, up: error == nil, error: error)
        gauges[name]?.record(error == nil ? 1 : 0)
        if changed {
            if let error {
                logger.warning("dependency unreachable; not ready, retrying with backoff", metadata: ["dependency": "\(name)", "target": "\(check.target)", "error": "\(error)"])
            } else {
                logger.info("dependency reachable", metadata: ["dependency": "\(name)", "target": "\(check.target)"])
            }
        }
        return error == nil
    }

    private static func probe(_ ping: () async throws -> Void) async -> String? {
        do {
            try await ping()
            return nil
        } catch let e as MongoError {
            return e.message
        } catch {
            return "\(error)"
        }
    }
}
