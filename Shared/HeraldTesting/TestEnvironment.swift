import Foundation
import Logging

/// Where the real servers for tests are: started by `make test` (deploy/dev/stack.sh) on the
/// documented ports, or named by environment variables.
public enum TestEnvironment {
    /// The settings store (`HERALD_TEST_MONGO_SETTINGS_URI`, default `mongodb://127.0.0.1:27051`).
    public static var settingsMongoURI: String {
        ProcessInfo.processInfo.environment["HERALD_TEST_MONGO_SETTINGS_URI"] ?? "mongodb://127.0.0.1:27051"
    }

    /// The customer-data store (`HERALD_TEST_MONGO_CUSTOMERS_URI`, default `mongodb://127.0.0.1:27052`).
    public static var customersMongoURI: String {
        ProcessInfo.processInfo.environment["HERALD_TEST_MONGO_CUSTOMERS_URI"] ?? "mongodb://127.0.0.1:27052"
    }

    /// The broker (`HERALD_TEST_AMQP_URL`, default `amqp://guest:guest@127.0.0.1:5672`).
    public static var amqpURL: String {
        ProcessInfo.processInfo.environment["HERALD_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672"
    }

    /// The root of the checkout (where Package.swift is).
    public static var repositoryRoot: URL {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }

    /// A database or queue name no other test uses: tests never drop and recreate shared names.
    public static func uniqueName(_ prefix: String) -> String {
        let suffix = UUID().uuidString.prefix(8).lowercased()
        return "t_\(prefix)_\(suffix)"
    }

    /// A logger for tests: warnings and worse on standard error (`HERALD_TEST_LOG_LEVEL` to change).
    public static func logger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = ProcessInfo.processInfo.environment["HERALD_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }
}
