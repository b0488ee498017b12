import ControlPanel
import ServiceSupport

// control: the web panel and the REST API. This executable only wires Shared libraries together.
await HeraldService.main(.control, context: PanelRequestContext.self) { router, context in
    let panel = try await ControlPanel(settingsClient: context.settings, customersClient: context.customers, amqp: context.amqp, settings: try ControlPanel.settings(from: context), logger: context.logger)
    panel.addRoutes(to: router)
    return [ControlPanelService(panel: panel)]
}
