import Content
import CustomerData
import Foundation
import Templates
import Testing

/// The block builder's HTML for a fixed design equals a reviewed reference file
/// (Fixtures/block-design.html, checked in a browser at desktop and phone widths). A change to the
/// generator shows here as a diff; the new output is written to .artifacts/content/ to review.
@Suite struct EmailHTMLTests {
    static let design = EmailDesign(rows: [
        EmailRow(columns: [EmailColumn(blocks: [
            EmailBlock(type: .image, align: "center", src: "https://cdn.shop.example/logo.png", alt: "Shop", href: "https://shop.example", width: 160),
        ])], background: "#1f2937", padding: 20),
        EmailRow(columns: [EmailColumn(blocks: [
            EmailBlock(type: .text, content: "<h1 style=\"margin:0 0 8px 0;font-size:26px;\">Hello, {{ profile.first_name | default: \"friend\" | escape }}!</h1>", align: "left", size: 16),
            EmailBlock(type: .text, content: "Spring is here: skis and sleds are 20% off until Sunday."),
            EmailBlock(type: .button, align: "center", href: "https://shop.example/sale?u={{ profile.id }}", label: "Open the sale", color: "#16a34a", textColor: "#ffffff"),
            EmailBlock(type: .divider, color: "#e5e7eb", height: 1),
        ])]),
        EmailRow(columns: [
            EmailColumn(blocks: [EmailBlock(type: .text, content: "<strong>Free delivery</strong><br>on orders over 3,000")]),
            EmailColumn(blocks: [EmailBlock(type: .text, content: "<strong>Easy returns</strong><br>within 30 days")]),
        ]),
        EmailRow(columns: [EmailColumn(blocks: [
            EmailBlock(type: .text, content: "Picked for you", size: 20),
            EmailBlock(type: .products, source: "recs", limit: 3, imageKey: "image", titleKey: "title", priceKey: "price", linkKey: "url"),
            EmailBlock(type: .spacer, height: 16),
        ])]),
        EmailRow(columns: [EmailColumn(blocks: [
            EmailBlock(type: .social, align: "center", links: [SocialLink(network: "Telegram", url: "https://t.me/shop"), SocialLink(network: "VK", url: "https://vk.com/shop")]),
            EmailBlock(type: .html, content: "<p style=\"font-size:12px;color:#6b7280;text-align:center;\">Shop Ltd · <a href=\"{{ message.unsubscribe_url }}\">Unsubscribe</a></p>"),
        ])], background: "#f9fafb"),
    ])

    @Test func theBuilderMakesTheReviewedHTMLForAFixedDesign() throws {
        let html = EmailHTML.make(Self.design, subject: "Spring sale", preheader: "20% off skis and sleds")
        let artifacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.artifacts/content").standardized
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        try html.write(to: artifacts.appendingPathComponent("block-design.html"), atomically: true, encoding: .utf8)
        let reference = try #require(Bundle.module.url(forResource: "Fixtures/block-design", withExtension: "html"))
        let expected = try String(contentsOf: reference, encoding: .utf8)
        #expect(html == expected, "the generator's output changed; review .artifacts/content/block-design.html")
    }

    @Test func theBuiltHTMLIsATemplateThatRendersForAProfile() throws {
        var content = MessageContent(subject: "Spring sale", preheader: "20% off", design: Self.design)
        content.html = EmailHTML.make(Self.design, subject: content.subject, preheader: content.preheader)
        let message = try ComposedMessage(content, channel: .email)
        let rendered = try message.render([
            "profile": TemplateData.profile(ComposedMessageTests.profile()),
            "recs": [["title": "Skis <pro>", "price": "990 ₽", "url": "https://shop.example/skis", "image": "https://cdn.example/skis.png"]],
            "message": ["unsubscribe_url": "https://t.example/u/abc"],
        ])
        let html = rendered["html"]
        let artifacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.artifacts/content").standardized
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        try html.write(to: artifacts.appendingPathComponent("block-design-rendered.html"), atomically: true, encoding: .utf8)
        #expect(html.contains("Hello, Анна!") && html.contains("Skis &lt;pro&gt;") && html.contains("href=\"https://t.example/u/abc\""))
        #expect(!html.contains("{{") && !html.contains("{%"))
        #expect(rendered["text"].contains("Open the sale (https://shop.example/sale?u="))
    }

    @Test func coloursAndNamesThatCouldBreakTheHTMLAreReplaced() {
        let hostile = EmailDesign(background: "red;} body{display:none", rows: [EmailRow(columns: [EmailColumn(blocks: [
            EmailBlock(type: .button, href: "https://x.example/\"><script>", label: "Go", color: "url(javascript:x)"),
            EmailBlock(type: .products, source: "recs}}{{ evil", limit: 99),
        ])])])
        let html = EmailHTML.make(hostile)
        #expect(!html.contains("red;}") && !html.contains("<script>") && !html.contains("javascript:") && html.contains("for item in products limit: 20"))
    }
}
