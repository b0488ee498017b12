import ServiceSupport

// mta-sender: delivers the email queues; many nodes, managed over SSH.
await HeraldService.main(.mtaSender)
