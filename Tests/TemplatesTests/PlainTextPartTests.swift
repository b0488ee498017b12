import Foundation
import Templates
import Testing

@Suite("Plain-text part")
struct PlainTextPartTests {
    @Test func keepsTextLinksAndStructure() {
        let html = """
        <html><head><title>x</title><style>p { color: red }</style></head><body>
        <h1>Spring&nbsp;sale</h1><p>Hello, <b>Анна</b> &amp; friends!</p><!-- hidden -->
        <p>See <a href="https://shop.example.com/p/1">our shoes</a> or <a href="https://example.com">https://example.com</a>.</p>
        <ul><li>One</li><li>Two &#8364; &#x263A;</li></ul>
        <table><tr><td>A</td><td><img src="x.png" alt="Logo"></td></tr></table>
        <script>alert(1)</script><p>Bye</p></body></html>
        """
        // Blocks are separated by one blank line, list items are not.
        #expect(PlainTextPart.make(fromHTML: html) == """
        Spring sale

        Hello, Анна & friends!

        See our shoes (https://shop.example.com/p/1) or https://example.com.

        - One
        - Two € ☺

        A Logo

        Bye
        """)
    }

    @Test func theReferenceEmailReadsAsText() throws {
        let url = try #require(Bundle.module.url(forResource: "ReferenceEmail/expected.html", withExtension: nil))
        let text = PlainTextPart.make(fromHTML: try String(contentsOf: url, encoding: .utf8))
        #expect(!text.contains("<") && !text.contains(">"))
        #expect(text.contains("Hello, Анна!"))
        #expect(text.contains("Item 0 (https://shop.example.com/p/0) Item 0 — 990 RUB"))
        #expect(text.contains("Herald Shop (https://t.example.com/w/abc)"))
        #expect(!text.contains("\n\n\n"))
    }
}
