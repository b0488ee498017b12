import Logging
import ServiceLifecycle

/// `control`'s background work: the first-run bootstrap (retried until the settings store
/// answers) and the audit log's retention sweep.
public struct ControlPanelService: Service {
    let panel: ControlPanel

    public init(panel: ControlPanel) {
        self.panel = panel
    }

    public func run() async throws {
        var delay = Duration.milliseconds(250)
        while true {
            do {
                try await panel.bootstrap()
                break
            } catch {
                panel.logger.warning("bootstrap failed; retrying", metadata: ["error": "\(error)", "retry_in": "\(delay)"])
                do { try await Task.sleep(for: delay) } catch { return }  // shutting down
                delay = min(delay * 2, .seconds(10))
            }
        }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let removed = try await panel.audit.sweep()
                    if removed > 0 { panel.logger.info("audit retention sweep", metadata: ["removed": "\(removed)"]) }
                } catch {
                    panel.logger.warning("audit retention sweep failed", metadata: ["error": "\(error)"])
                }
                do { try await Task.sleep(for: .seconds(panel.settings.auditSweepInterval)) } catch { return }
            }
        }
    }
}
