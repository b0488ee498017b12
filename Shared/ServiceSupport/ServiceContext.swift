import AMQP
import Configuration
import Logging
import Mongo

/// Everything a service's own code needs: its configuration, the two stores, the broker, and the
/// router to add its endpoints to.
public struct ServiceContext: Sendable {
    public let descriptor: ServiceDescriptor
    public let configuration: HeraldConfiguration
    public let config: ConfigReader
    public let settings: MongoClient
    public let customers: MongoClient
    public let amqp: AMQPConnection
    public let readiness: Readiness
    public let logger: Logger
}
