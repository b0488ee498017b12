import CustomerData
import Foundation
import Templates

/// A template version compiled once for a sending: each part of its content, and the variables
/// the parts read (so that only the data sources a message uses are looked up). Rendered for each
/// recipient; shareable between threads.
public struct ComposedMessage: Sendable {
    public let channel: Subscription.Channel
    let parts: [(name: String, template: Template)]
    /// Whether the plain-text part is made from the HTML.
    let textFromHTML: Bool
    /// The root variables the parts read (`profile`, `message`, a source's name…).
    public let variables: Set<String>

    /// Compiles every part of `content`; `fragments` gives a fragment's source by key.
    ///
    /// - Throws: ``ContentErrors`` with every part's syntax error (part, line, column, caret).
    public init(_ content: MessageContent, channel: Subscription.Channel, limits: RenderLimits = RenderLimits(),
                fragments: @escaping @Sendable (String) -> String? = { _ in nil }) throws(ContentErrors)
    {
        let engine = TemplateEngine(limits: limits, fragments: fragments)
        var compiled: [(String, Template)] = [], errors: [ContentErrors.Failure] = []
        var variables = Set<String>()
        for (name, source) in content.parts(for: channel) {
            do {
                let template = try engine.compile(source, name: name)
                compiled.append((name, template))
                variables.formUnion(template.variables)
            } catch {
                errors.append(ContentErrors.Failure(part: name, line: error.line, column: error.column, message: error.description))
            }
        }
        guard errors.isEmpty else { throw ContentErrors(failures: errors) }
        self.channel = channel
        parts = compiled
        textFromHTML = channel == .email && content.text.isEmpty
        self.variables = variables
    }

    /// Renders every part for one recipient; for an email without its own plain text, the text
    /// part is made from the rendered HTML.
    ///
    /// - Throws: ``TemplateRenderError`` naming the part (a limit reached, a value a filter cannot use).
    public func render(_ context: [String: TemplateValue]) throws(RenderFailure) -> RenderedMessage {
        var rendered: [String: String] = [:]
        for (name, template) in parts {
            do {
                rendered[name] = try template.render(context)
            } catch {
                throw RenderFailure(part: name, reason: error)
            }
        }
        if textFromHTML { rendered["text"] = PlainTextPart.make(fromHTML: rendered["html"] ?? "") }
        return RenderedMessage(channel: channel, parts: rendered)
    }
}

/// One recipient's message: each part's text by name (`subject`, `html`, `text`, `body`, …).
public struct RenderedMessage: Sendable, Equatable {
    public let channel: Subscription.Channel
    public let parts: [String: String]

    public subscript(part: String) -> String { parts[part] ?? "" }
}

/// A part that could not render for this recipient.
public struct RenderFailure: Error, Sendable, CustomStringConvertible {
    public let part: String
    public let reason: TemplateRenderError
    public var description: String { "\(part): \(reason.message)" }
}

/// The syntax errors of a message's parts.
public struct ContentErrors: Error, Sendable, CustomStringConvertible {
    public struct Failure: Sendable, Equatable, Codable {
        public let part: String
        public let line: Int
        public let column: Int
        /// `name:line:column: message`, the line and a caret.
        public let message: String
    }

    public let failures: [Failure]
    public var description: String { failures.map(\.message).joined(separator: "\n") }
}
