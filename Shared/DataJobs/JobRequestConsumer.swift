import AMQP
import Contracts
import Foundation
import Logging
import ServiceLifecycle

/// A job-server worker: takes job requests from its queue one at a time and runs them. A
/// request is acknowledged when its job has ended (or was not for this installation's store),
/// so a job-server that stops mid-way leaves the request to be delivered again. (The job
/// collections' indexes are control's to create, at its start: job-server starts and stops fast.)
public struct JobRequestConsumer: Service {
    let amqp: AMQPConnection
    let queue: String
    let runJob: @Sendable (String) async throws -> Void
    let logger: Logger

    public init(amqp: AMQPConnection, queue: String, logger: Logger, run: @escaping @Sendable (String) async throws -> Void) {
        self.amqp = amqp
        self.queue = queue
        runJob = run
        self.logger = logger
    }

    /// The import worker on `jobs.import`.
    public static func imports(amqp: AMQPConnection, queue: String = "jobs.import", runner: ImportRunner, logger: Logger) -> JobRequestConsumer {
        JobRequestConsumer(amqp: amqp, queue: queue, logger: logger, run: { try await runner.run(jobId: $0) })
    }

    /// The export worker on `jobs.export`.
    public static func exports(amqp: AMQPConnection, queue: String = "jobs.export", runner: ExportRunner, logger: Logger) -> JobRequestConsumer {
        JobRequestConsumer(amqp: amqp, queue: queue, logger: logger, run: { try await runner.run(jobId: $0) })
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await amqp.waitUntilConnected(timeout: .seconds(30))
                    let consumer = try await amqp.consume(queue: queue, prefetch: 1)
                    for try await delivery in consumer {
                        // Buffered deliveries do not notice a shutdown: look before each one.
                        if Task.isCancelled {
                            delivery.nack(requeue: true)
                            return
                        }
                        await handle(delivery)
                    }
                } catch is CancellationError {
                    return
                } catch {
                    if Task.isCancelled { return }
                    logger.warning("job consumer stopped; starting again", metadata: ["queue": "\(queue)", "error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    func handle(_ delivery: AMQPDelivery) async {
        let request: Herald_Jobs_V1_JobRequest
        do {
            request = try Herald_Jobs_V1_JobRequest(serializedBytes: delivery.body)
        } catch {
            logger.error("a request that is not a JobRequest; dead-lettering it", metadata: ["queue": "\(queue)", "error": "\(error)"])
            delivery.reject(requeue: false)
            return
        }
        do {
            try await runJob(request.jobID)
            delivery.ack()
        } catch is CancellationError {
            // Stopping: the job starts over when the request is delivered again.
            delivery.nack(requeue: true)
        } catch {
            // The store is unreachable: leave the request for a later attempt.
            logger.error("job could not run; it will be delivered again", metadata: ["job": "\(request.jobID)", "error": "\(error)"])
            delivery.nack(requeue: true)
            try? await Task.sleep(for: .seconds(2))
        }
    }

    /// The request that starts an export, for `control` to publish.
    public static func request(for job: ExportJob) throws -> AMQPMessage {
        var request = Herald_Jobs_V1_JobRequest()
        request.meta = .new(account: job.accountId, producer: "control")
        request.jobID = job._id
        var export = Herald_Jobs_V1_ExportJob()
        export.databaseID = job.databaseId
        export.format = job.format.rawValue
        request.export = export
        return AMQPMessage(exchange: BusExchange.jobs, routingKey: "export", body: try request.serializedBytes(), messageId: request.meta.eventID,
                           type: "herald.jobs.v1.JobRequest", contentType: "application/x-protobuf")
    }

    /// The request that starts an import, for `control` to publish.
    public static func request(for job: ImportJob) throws -> AMQPMessage {
        var request = Herald_Jobs_V1_JobRequest()
        request.meta = .new(account: job.accountId, producer: "control")
        request.jobID = job._id
        var importJob = Herald_Jobs_V1_ImportJob()
        importJob.databaseID = job.databaseId
        importJob.sourceUri = "mongodb-settings:import_files/\(job._id)"
        importJob.format = job.format.rawValue
        request.import = importJob
        return AMQPMessage(exchange: BusExchange.jobs, routingKey: "import", body: try request.serializedBytes(), messageId: request.meta.eventID,
                           type: "herald.jobs.v1.JobRequest", contentType: "application/x-protobuf")
    }
}
