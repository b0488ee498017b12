import ServiceSupport

// job-server: imports, exports, segment builds, campaign expansion, scenarios and syncs (HTTP 19888).
await HeraldService.main(.jobServer)
