import Configuration
import Foundation
import Logging
import SystemPackage

/// The settings every Herald service reads, with their documented keys (docs/configuration.md).
///
/// Sources, highest first: command line (`--http-port 8080`), environment (`HERALD_HTTP_PORT=8080`),
/// the JSON file named by `--config-file` / `HERALD_CONFIG_FILE`, then the defaults below, which
/// follow the port layout in docs/ports.md.
public struct HeraldConfiguration: Sendable {
    /// `http.host`: the address the HTTP server binds to.
    public var httpHost: String
    /// `http.port`.
    public var httpPort: Int
    /// `mongo.settings.uri`: the settings store.
    public var settingsMongoURI: String
    /// `mongo.customers.uri`: the customer-data store.
    public var customersMongoURI: String
    /// `mongo.settings.database`: the database in the settings store.
    public var settingsDatabase: String
    /// `mongo.customers.database`: the database in the customer-data store.
    public var customersDatabase: String
    /// `mongo.threads`: threads per store for blocking driver calls.
    public var mongoThreads: Int
    /// `amqp.url` (secret): the broker.
    public var amqpURL: String
    /// `log.level`: trace, debug, info, notice, warning, error, critical.
    public var logLevel: Logger.Level
    /// `readiness.interval`: seconds between dependency checks while healthy.
    public var readinessInterval: Double

    /// Reads the configuration of `service` from the process's command line, environment and file.
    ///
    /// - Throws: ``ConfigurationError`` naming the key, the bad value and what it should be.
    public static func load(for service: ServiceDescriptor, arguments: [String] = CommandLine.arguments,
                            environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> (HeraldConfiguration, ConfigReader)
    {
        // A flag given twice reads as a list, not as a value: refuse it rather than fall back to a default.
        var seen = Set<String>()
        for argument in arguments.dropFirst() where argument.hasPrefix("--") {
            let flag = String(argument.split(separator: "=", maxSplits: 1)[0])
            guard seen.insert(flag).inserted else {
                let key = flag.dropFirst(2).replacingOccurrences(of: "-", with: ".")
                throw ConfigurationError(key: key, message: "\(flag) is given more than once; give it once")
            }
        }
        let cli = CommandLineArgumentsProvider(arguments: arguments, secretsSpecifier: .specific(["--amqp-url"]))
        let env = KeyMappingProvider(
            upstream: EnvironmentVariablesProvider(environmentVariables: environment, secretsSpecifier: .specific(["HERALD_AMQP_URL"])),
            keyMapper: { $0.prepending(["herald"]) }
        )
        var providers: [any ConfigProvider] = [cli, env]
        let bootstrap = ConfigReader(providers: providers)
        if let file = bootstrap.string(forKey: "config.file") {
            guard FileManager.default.fileExists(atPath: file) else {
                throw ConfigurationError(key: "config.file", message: "the configuration file '\(file)' does not exist")
            }
            do {
                providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(file)))
            } catch {
                throw ConfigurationError(key: "config.file", message: "'\(file)' is not a valid JSON configuration file: \(error)")
            }
        }
        let reader = ConfigReader(providers: providers)
        return (try HeraldConfiguration(reader: reader, service: service), reader)
    }

    init(reader: ConfigReader, service: ServiceDescriptor) throws {
        httpHost = reader.string(forKey: "http.host", default: "0.0.0.0")
        httpPort = try Self.port(reader, "http.port", default: service.defaultHTTPPort)
        settingsMongoURI = reader.string(forKey: "mongo.settings.uri", default: "mongodb://127.0.0.1:27051")
        customersMongoURI = reader.string(forKey: "mongo.customers.uri", default: "mongodb://127.0.0.1:27052")
        settingsDatabase = reader.string(forKey: "mongo.settings.database", default: "herald")
        customersDatabase = reader.string(forKey: "mongo.customers.database", default: "herald")
        for (key, name) in [("mongo.settings.database", settingsDatabase), ("mongo.customers.database", customersDatabase)] {
            guard (1...63).contains(name.utf8.count), !name.contains(where: { "/\\. \"$".contains($0) }) else {
                throw ConfigurationError(key: key, message: "'\(name)' is not a database name; use 1–63 characters without / \\ . space \" $")
            }
        }
        mongoThreads = reader.int(forKey: "mongo.threads", default: 8)
        guard (1...256).contains(mongoThreads) else {
            throw ConfigurationError(key: "mongo.threads", message: "\(mongoThreads) is out of range; use 1 to 256")
        }
        amqpURL = reader.string(forKey: "amqp.url", isSecret: true, default: "amqp://guest:guest@127.0.0.1:5672")
        let level = reader.string(forKey: "log.level", default: "info")
        guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
            throw ConfigurationError(key: "log.level", message: "'\(level)' is not a level; use trace, debug, info, notice, warning, error or critical")
        }
        logLevel = parsed
        readinessInterval = reader.double(forKey: "readiness.interval", default: 5)
        guard readinessInterval > 0 else {
            throw ConfigurationError(key: "readiness.interval", message: "must be a positive number of seconds")
        }
    }

    private static func port(_ reader: ConfigReader, _ key: String, default value: Int) throws -> Int {
        if let text = reader.string(forKey: ConfigKey(key)), Int(text) == nil {
            throw ConfigurationError(key: key, message: "'\(text)' is not a port number; use 1 to 65535")
        }
        let port = reader.int(forKey: ConfigKey(key), default: value)
        guard (1...65535).contains(port) else {
            throw ConfigurationError(key: key, message: "\(port) is not a port number; use 1 to 65535")
        }
        return port
    }
}

/// A configuration value that cannot be used: which key, and how to fix it.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let key: String
    public let message: String

    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }
    public var description: String {
        let flag = "--" + key.replacingOccurrences(of: ".", with: "-")
        let env = "HERALD_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
        return "configuration key '\(key)' (\(flag), \(env)): \(message)"
    }
}
