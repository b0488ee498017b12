import Foundation
import Templates
import Testing

func render(_ source: String, _ context: [String: TemplateValue] = [:], fragments: [String: String] = [:], limits: RenderLimits = RenderLimits()) throws -> String {
    let engine = TemplateEngine(limits: limits, fragments: { fragments[$0] })
    return try engine.compile(source).render(context)
}

@Suite("Template language")
struct TemplateLanguageTests {
    let profile: [String: TemplateValue] = [
        "profile": ["first_name": "Анна", "age": 35, "city": "", "tags": ["vip", "b2c"], "balance": 1234.5],
        "items": [["name": "A", "price": 10], ["name": "B", "price": 25], ["name": "C", "price": 5]],
    ]

    @Test func outputsAndPaths() throws {
        #expect(try render("Hi {{ profile.first_name }}!", profile) == "Hi Анна!")
        #expect(try render("{{ items[1].name }} {{ items.size }} {{ items.first.name }} {{ items.last.price }} {{ items[-1].name }}", profile) == "B 3 A 5 C")
        #expect(try render("{{ profile['first_name'] }}", profile) == "Анна")
        #expect(try render("[{{ missing.field }}]", profile) == "[]")
        #expect(try render("{{ 3 }} {{ 2.5 }} {{ true }} {{ nil }}") == "3 2.5 true ")
    }

    @Test func conditions() throws {
        let t = "{% if profile.age > 40 %}old{% elsif profile.age >= 35 and profile.first_name == \"Анна\" %}match{% else %}young{% endif %}"
        #expect(try render(t, profile) == "match")
        #expect(try render("{% unless profile.vip %}no vip{% endunless %}", profile) == "no vip")
        // Liquid truth: an empty string is true, nil and false are not.
        #expect(try render("{% if profile.city %}set{% endif %}{% if profile.nothing %}x{% endif %}", profile) == "set")
        #expect(try render("{% if profile.city == empty %}empty{% endif %}", profile) == "empty")
        #expect(try render("{% if profile.tags contains \"vip\" %}vip{% endif %}{% if profile.first_name contains \"нн\" %}!{% endif %}", profile) == "vip!")
        #expect(try render("{% if false or true and false %}a{% else %}b{% endif %}") == "b")  // right to left: false or (true and false)
        #expect(try render("{% case profile.age %}{% when 1, 35 %}thirty-five{% when 2 %}two{% else %}other{% endcase %}", profile) == "thirty-five")
    }

    @Test func loops() throws {
        #expect(try render("{% for i in items %}{{ forloop.index }}{{ i.name }}{% unless forloop.last %},{% endunless %}{% endfor %}", profile) == "1A,2B,3C")
        #expect(try render("{% for i in items limit: 2 offset: 1 %}{{ i.name }}{% endfor %}", profile) == "BC")
        #expect(try render("{% for i in items reversed %}{{ i.name }}{% endfor %}", profile) == "CBA")
        #expect(try render("{% for i in (1..5) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 4 %}{% break %}{% endif %}{{ i }}{% endfor %}") == "13")
        #expect(try render("{% for i in nothing %}x{% else %}none{% endfor %}") == "none")
        // The loop variable is the loop's own; an assignment inside a loop outlives it (as in Liquid).
        #expect(try render("{% assign x = 1 %}{% for x in (5..6) %}{{ x }}{% endfor %}{{ x }}") == "561")
        #expect(try render("{% for i in (1..3) %}{% assign last = i %}{% endfor %}{{ last }}") == "3")
        #expect(try render("{% for a in (1..2) %}{% for b in (1..2) %}{{ forloop.index }}{% endfor %}{{ forloop.index }};{% endfor %}") == "121;122;")
    }

    @Test func assignCaptureAndWhitespaceControl() throws {
        #expect(try render("{% assign n = items | size %}{{ n | plus: 1 }}", profile) == "4")
        #expect(try render("{% capture greeting %}Hello, {{ profile.first_name }}{% endcapture %}{{ greeting | upcase }}", profile) == "HELLO, АННА")
        #expect(try render("a  {{- \" b \" -}}  c") == "a b c")
        #expect(try render("x\n  {%- if true -%}\n  y\n{%- endif %}") == "xy")
        #expect(try render("{% raw %}{{ not parsed }}{% endraw %}{% comment %} gone {{ x }} {% endcomment %}") == "{{ not parsed }}")
    }

    @Test func stringFilters() throws {
        #expect(try render("{{ profile.nickname | default: \"friend\" }} {{ \"\" | default: \"empty\" }}", profile) == "friend empty")
        #expect(try render("{{ \"hello world\" | capitalize }}|{{ \"  x \" | strip }}|{{ \"abc\" | append: \"d\" | prepend: \">\" }}") == "Hello world|x|>abcd")
        #expect(try render("{{ \"a-b-a\" | replace: \"a\", \"x\" }} {{ \"a-b-a\" | replace_first: \"a\", \"x\" }} {{ \"a-b-a\" | remove: \"-\" }}") == "x-b-x x-b-a aba")
        #expect(try render("{{ \"Весенняя коллекция\" | truncate: 10 }} {{ \"one two three\" | truncatewords: 2 }}") == "Весення... one two...")
        #expect(try render("{{ s | escape }}", ["s": "<b>\"x\" & 'y'</b>"]) == "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;")
        #expect(try render("{{ \"a b&c/д\" | url_encode }}") == "a%20b%26c%2F%D0%B4")
        #expect(try render("{{ \"a,b,c\" | split: \",\" | reverse | join: \"-\" }}") == "c-b-a")
        #expect(try render("{{ items | map: \"name\" | join: \"\" }} {{ items | sort: \"price\" | map: \"name\" | join: \"\" }}", profile) == "ABC CAB")
        #expect(try render("{{ \"<p>Hi</p>\" | strip_html }} {{ \"abcdef\" | slice: 1, 3 }}") == "Hi bcd")
    }

    @Test func numberFilters() throws {
        #expect(try render("{{ 7 | plus: 3 }} {{ 7 | minus: 10 }} {{ 7 | times: 2 }} {{ 7 | divided_by: 2 }} {{ 7.0 | divided_by: 2 }} {{ 7 | modulo: 3 }}") == "10 -3 14 3 3.5 1")
        #expect(try render("{{ 4.6 | round }} {{ 4.567 | round: 2 }} {{ 4.1 | ceil }} {{ 4.9 | floor }} {{ -3 | abs }} {{ 5 | at_most: 3 }} {{ 1 | at_least: 3 }}") == "5 4.57 5 4 3 3 3")
        #expect(try render("{{ profile.balance | money }} {{ 1990 | money: \"RUB\" }} {{ 1234567.891 | money }}", profile) == "1,234.50 1,990.00 RUB 1,234,567.89")
    }

    @Test(arguments: [(1, "товар"), (2, "товара"), (4, "товара"), (5, "товаров"), (11, "товаров"), (12, "товаров"), (21, "товар"), (22, "товара"), (25, "товаров"), (101, "товар"), (111, "товаров"), (0, "товаров")])
    func russianPluralForms(_ n: Int, _ word: String) throws {
        #expect(try render("{{ n }} {{ n | plural: \"товар\", \"товара\", \"товаров\" }}", ["n": .int(n)]) == "\(n) \(word)")
    }

    @Test func englishPluralAndDates() throws {
        #expect(try render("{{ 1 | plural: \"item\", \"items\" }} {{ 3 | plural: \"item\", \"items\" }}") == "item items")
        #expect(try render("{{ \"2027-03-31\" | date: \"%d.%m.%Y\" }} {{ 0 | date: \"%Y-%m-%d %H:%M %A %B %j\" }}") == "31.03.2027 1970-01-01 00:00 Thursday January 001")
    }

    @Test func fragments() throws {
        let fragments = ["header": "<h1>{{ brand }}</h1>", "footer": "{% include \"legal\" %}", "legal": "© {{ year }}"]
        #expect(try render("{% include \"header\" %}|{% include \"footer\" %}", ["brand": "Herald", "year": 2026], fragments: fragments) == "<h1>Herald</h1>|© 2026")
    }
}

@Suite("Template errors and limits")
struct TemplateErrorTests {
    func syntaxError(_ source: String, fragments: [String: String] = [:]) -> TemplateSyntaxError? {
        do {
            _ = try TemplateEngine(fragments: { fragments[$0] }).compile(source, name: "welcome")
            return nil
        } catch {
            return error
        }
    }

    @Test func syntaxErrorsPointAtTheLineAndColumn() throws {
        let e = try #require(syntaxError("Hello\n{{ profile.name | upcase }} and {% if profile.age > %}x{% endif %}"))
        #expect(e.line == 2)
        #expect(e.column == 53)  // at the %} that came too early
        #expect(e.message == "expected a value or a variable before the end of the tag")
        #expect(e.excerpt.hasSuffix("\n" + String(repeating: " ", count: 52) + "^"))
        #expect(e.description.hasPrefix("welcome:2:53: "))

        let unclosed = try #require(syntaxError("a\nb {% if x %}never closed"))
        #expect((unclosed.line, unclosed.column) == (2, 3))
        #expect(unclosed.message == "{% if %} has no {% endif %}")

        #expect(syntaxError("{{ x | upcsae }}")?.message == "unknown filter 'upcsae'")
        #expect(syntaxError("{% iff x %}")?.message.hasPrefix("unknown tag 'iff'") == true)
        #expect(syntaxError("{{ \"open }}")?.message == "this output is not closed; end it with }}")
        #expect(syntaxError("{% endif %}")?.message == "{% endif %} does not belong here: it has no opening tag")
        #expect(syntaxError("{% if a = 1 %}{% endif %}")?.message == "'=' assigns; compare with ==")
        #expect(syntaxError("{% include \"nope\" %}")?.message == "there is no fragment named 'nope'")
        let cycle = syntaxError("{% include \"a\" %}", fragments: ["a": "{% include \"b\" %}", "b": "x{% include \"a\" %}"])
        #expect(cycle?.message == "the fragment 'a' includes itself (welcome → a → b → a)")
        #expect(cycle?.template == "b")
    }

    @Test func runawayLoopsStopTheRecipientNotTheProcess() throws {
        let limits = RenderLimits(loopIterations: 1_000, outputBytes: 1_000_000)
        #expect {
            try render("{% for a in (1..100) %}{% for b in (1..100) %}x{% endfor %}{% endfor %}", limits: limits)
        } throws: { ($0 as? TemplateRenderError)?.kind == .loopLimit }
        #expect {
            try render("{% for a in (1..5000) %}0123456789{% endfor %}", limits: RenderLimits(loopIterations: 10_000, outputBytes: 10_000))
        } throws: { ($0 as? TemplateRenderError)?.kind == .outputLimit }
        #expect {
            try render("{% for a in (1..100000000) %}{% endfor %}", limits: limits)
        } throws: { ($0 as? TemplateRenderError)?.kind == .loopLimit }
        #expect {
            try render("{% for a in (1..1000000) %}{{ a | plus: 1 }}{% endfor %}", limits: RenderLimits(loopIterations: 10_000_000, outputBytes: 100_000_000, renderTime: .milliseconds(20)))
        } throws: { ($0 as? TemplateRenderError)?.kind == .timeLimit }
        #expect {
            try render("{{ 1 | divided_by: 0 }}")
        } throws: { ($0 as? TemplateRenderError)?.message == "divided_by: division by zero" }
    }
}

@Suite("Reference email")
struct ReferenceEmailTests {
    static func resource(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: "ReferenceEmail/" + name, withExtension: nil))
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// Our output equals python-liquid's (an independent Liquid engine), up to the whitespace
    /// that follows `{% include %}` tags.
    @Test func rendersWhatAnIndependentLiquidEngineRenders() throws {
        let header = try Self.resource("header.liquid"), footer = try Self.resource("footer.liquid")
        let engine = TemplateEngine(fragments: { ["header": header, "footer": footer][$0] })
        let template = try engine.compile(try Self.resource("email.liquid"), name: "email")
        let context = try JSONDecoder().decode([String: TemplateValue].self, from: Data(try Self.resource("context.json").utf8))
        let ours = try template.render(context)
        let expected = try Self.resource("expected.html")
        func normalized(_ s: String) -> String { s.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: "\n") }
        #expect(normalized(ours) == normalized(expected))
        #expect(ours.contains("Hello, Анна!"))
        #expect(ours.contains("Item 4"))
        #expect(!ours.contains("Item 5"), "the loop is limited to 5 items")
    }
}
