import ServiceSupport

// tracker: links, opens, unsubscribe, web pixel, site events and forms, on its own address.
await HeraldService.main(.tracker)
