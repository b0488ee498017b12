import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A process started with `posix_spawn` and reaped with `waitpid` (Foundation's `Process` can miss
/// a child's exit on Linux). Its standard output and error go to a log file.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked Sendable: `pid` never changes; `status` is guarded by `lock`.
    public let pid: pid_t
    public let logFile: String
    private let lock = NSLock()
    private var status: Int32?

    /// Starts `executable` with `arguments`; `environment` entries are added to this process's.
    public init(executable: String, arguments: [String], environment: [String: String] = [:], logFile: String? = nil) throws {
        let log = logFile ?? FileManager.default.temporaryDirectory.appendingPathComponent("herald-child-\(UUID().uuidString).log").path
        self.logFile = log
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        // The child starts with no blocked signals and default handlers: a test thread (or the
        // concurrency runtime's) may block SIGTERM, and a mask is inherited across exec.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), defaults = sigset_t()
        sigemptyset(&empty)
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw TestServerError(message: "cannot start \(executable): \(String(cString: strerror(rc)))") }
        pid = child
    }

    /// The exit status once the process has ended (a signal number is reported as 128 + signal).
    public var exitStatus: Int32? {
        lock.withLock {
            if status == nil {
                var raw: Int32 = 0
                if waitpid(pid, &raw, WNOHANG) == pid {
                    status = (raw & 0x7F) == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
                }
            }
            return status
        }
    }

    /// Sends `signal` (SIGTERM by default).
    public func send(_ signal: Int32 = SIGTERM) {
        if exitStatus == nil { kill(pid, signal) }
    }

    /// Waits up to `timeout` for the process to end; returns its status, or nil if it is still running.
    @discardableResult
    public func waitForExit(timeout: Duration) async -> Int32? {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            if let s = exitStatus { return s }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return exitStatus
    }

    /// Blocks until the process ends and returns its status.
    public func waitForExit() -> Int32 {
        while true {
            if let s = exitStatus { return s }
            usleep(20_000)
        }
    }

    /// What the process printed so far.
    public var output: String {
        (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            var raw: Int32 = 0
            waitpid(pid, &raw, 0)
        }
    }
}
