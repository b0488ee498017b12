import AMQP
import HeraldTesting

func message(_ i: Int, to queue: String) -> AMQPMessage {
    AMQPMessage(exchange: "", routingKey: queue, body: Array("message \(i)".utf8), messageId: String(i), type: "test.v1")
}
