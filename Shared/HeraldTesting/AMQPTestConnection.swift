import AMQP

/// A started connection to the test broker (or `url`), closed after `body` whatever happens.
public func withConnection<R>(url: String = TestEnvironment.amqpURL, name: String = "tests", _ body: (AMQPConnection) async throws -> R) async throws -> R {
    let connection = AMQPConnection(configuration: try AMQPConfiguration(url: url, connectionName: name), logger: TestEnvironment.logger("amqp"))
    do {
        try await connection.waitUntilConnected()
        let result = try await body(connection)
        await connection.close()
        return result
    } catch {
        await connection.close()
        throw error
    }
}
