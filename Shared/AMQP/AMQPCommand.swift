/// Work handed to the connection thread.
enum AMQPCommand: Sendable {
    enum Settlement: Sendable {
        case ack(multiple: Bool)
        case nack(multiple: Bool, requeue: Bool)
        case reject(requeue: Bool)
    }

    case declare(AMQPTopology, CheckedContinuation<Void, any Error>)
    case publish([AMQPMessage], PublishGroup)
    case consume(ConsumerRegistration, CheckedContinuation<Void, any Error>)
    case cancel(String)
    case settle(UInt64, UInt16, UInt64, Settlement)
    case deleteQueue(String, CheckedContinuation<Int, any Error>)
    case messageCount(String, CheckedContinuation<Int, any Error>)
}
