/// Compiles Liquid-style templates (see docs/templates.md) once, to render them for many recipients.
public struct TemplateEngine: Sendable {
    public var limits: RenderLimits
    /// The source of a fragment by name, for `{% include "name" %}`; fragments are compiled into
    /// the template that includes them.
    public var fragments: @Sendable (String) -> String?

    public init(limits: RenderLimits = RenderLimits(), fragments: @escaping @Sendable (String) -> String? = { _ in nil }) {
        self.limits = limits
        self.fragments = fragments
    }

    /// Compiles `source`.
    ///
    /// - Throws: ``TemplateSyntaxError`` with the line, the column and the line's text with a caret.
    public func compile(_ source: String, name: String = "template") throws(TemplateSyntaxError) -> Template {
        var parser = TemplateParser(name: name, source: source, fragments: fragments, filters: TemplateFilters.all)
        let nodes = try parser.parse()
        return Template(nodes: nodes, slotNames: parser.slots.names, forloopSlot: parser.slots.existingSlot("forloop"),
                        limits: limits, sizeHint: source.utf8.count)
    }
}

/// A compiled template. Render it for each recipient; it is safe to share between threads.
public struct Template: Sendable {
    let nodes: [TemplateNode]
    /// The variable name of each slot.
    let slotNames: [String]
    /// The slot of `forloop`, when the template reads it (otherwise loops do not build it).
    let forloopSlot: Int?
    let limits: RenderLimits
    let sizeHint: Int

    /// The names the template reads at its top level (`profile`, a data source's name, and its
    /// own assigned and loop variables): what a caller must, or may, put in the context.
    public var variables: Set<String> { Set(slotNames) }

    /// Renders with `context` (an object: `profile`, `campaign`, …) as UTF-8 bytes.
    ///
    /// - Throws: ``TemplateRenderError`` when a limit is reached or a filter cannot use a value.
    public func renderBytes(_ context: [String: TemplateValue]) throws(TemplateRenderError) -> [UInt8] {
        var renderer = TemplateRenderer(slots: slotNames.map { context[$0] ?? .null }, forloopSlot: forloopSlot,
                                        limits: limits, capacity: sizeHint + sizeHint / 4)
        try renderer.render(nodes)
        return renderer.out
    }

    /// Renders with `context` as a string.
    public func render(_ context: [String: TemplateValue]) throws(TemplateRenderError) -> String {
        String(decoding: try renderBytes(context), as: UTF8.self)
    }
}
