import Hummingbird
import ServiceSupport

// control: the web panel and the REST API. This executable only wires Shared libraries together.
await HeraldService.main(.control, routes: { router, context in
    router.get("/") { _, _ -> Response in
        let ready = context.readiness.isReady
        let html = """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Herald</title></head>
        <body><h1>Herald</h1><p>Control panel \(HeraldService.version).</p>
        <p>Stores and broker: <strong>\(ready ? "ready" : "not ready")</strong> (<a href="/ready">details</a>, <a href="/metrics">metrics</a>).</p>
        </body></html>
        """
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }
})
