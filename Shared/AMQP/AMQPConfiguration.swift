import Foundation

/// Where and how to connect to RabbitMQ.
public struct AMQPConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var virtualHost: String
    /// Heartbeat interval the client asks for, in seconds (0 turns heartbeats off).
    public var heartbeat: Int
    /// Shown in the broker's management UI.
    public var connectionName: String
    /// Unconfirmed messages in flight at once before `publish` waits.
    public var confirmWindow: Int
    /// The first delay between reconnect attempts; it doubles up to `maximumReconnectDelay`.
    public var reconnectDelay: Duration
    public var maximumReconnectDelay: Duration

    public init(
        host: String = "127.0.0.1", port: Int = 5672, user: String = "guest", password: String = "guest",
        virtualHost: String = "/", heartbeat: Int = 30, connectionName: String = "herald",
        confirmWindow: Int = 1000, reconnectDelay: Duration = .milliseconds(100), maximumReconnectDelay: Duration = .seconds(5)
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.virtualHost = virtualHost
        self.heartbeat = heartbeat
        self.connectionName = connectionName
        self.confirmWindow = confirmWindow
        self.reconnectDelay = reconnectDelay
        self.maximumReconnectDelay = maximumReconnectDelay
    }

    /// Reads an AMQP URI: `amqp://user:password@host:port/vhost`.
    ///
    /// As in the AMQP URI specification, no path means the vhost `/`, and `/` alone means the empty
    /// vhost (which RabbitMQ does not have); `%2F` spells `/` explicitly.
    /// - Throws: ``AMQPError`` naming what is wrong with the URI.
    public init(url: String, connectionName: String = "herald") throws {
        guard let components = URLComponents(string: url), components.scheme == "amqp" else {
            throw AMQPError.invalidConfiguration("'\(url)' is not an amqp:// URI (expected amqp://user:password@host:5672/vhost)")
        }
        guard let host = components.host, !host.isEmpty else {
            throw AMQPError.invalidConfiguration("'\(url)' names no host")
        }
        self.init(host: host, port: components.port ?? 5672,
                  user: components.user?.removingPercentEncoding ?? "guest",
                  password: components.password?.removingPercentEncoding ?? "guest",
                  connectionName: connectionName)
        let path = components.percentEncodedPath
        if path.isEmpty {
            virtualHost = "/"
        } else {
            virtualHost = String(path.dropFirst()).removingPercentEncoding ?? ""
            if virtualHost.isEmpty {
                throw AMQPError.invalidConfiguration("'\(url)' ends with '/', which names the empty vhost; drop the slash for '/' or write %2F")
            }
        }
        for item in components.queryItems ?? [] {
            switch item.name {
            case "heartbeat":
                guard let v = item.value.flatMap(Int.init), v >= 0 else {
                    throw AMQPError.invalidConfiguration("heartbeat in '\(url)' must be a whole number of seconds")
                }
                heartbeat = v
            case "confirm_window":
                guard let v = item.value.flatMap(Int.init), v > 0 else {
                    throw AMQPError.invalidConfiguration("confirm_window in '\(url)' must be a positive number")
                }
                confirmWindow = v
            default:
                continue
            }
        }
    }

    /// `amqp://user@host:port/vhost`, without the password.
    public var redactedURL: String {
        let vhost = virtualHost == "/" ? "" : "/" + (virtualHost.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? virtualHost)
        return "amqp://\(user)@\(host):\(port)\(vhost)"
    }
}
