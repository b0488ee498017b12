import Content
import CustomerData
import Foundation
import Templates
import Testing

@Suite struct ComposedMessageTests {
    static func profile() -> Profile {
        var profile = Profile(accountId: "acc", databaseId: "db")
        profile.merge([("email", "anna@example.com"), ("first_name", "Анна"), ("bonus", .int64(5)), ("born", "1990-03-08"),
                       ("orders", .array([.document(["sku": "A-1", "qty": .int64(2)]), .document(["sku": "B-7", "qty": .int64(1)])]))])
        profile.subscribe(Subscription(channel: .email, address: "anna@example.com"))
        return profile
    }

    @Test func anEmailRendersEveryPartForAProfileWithFragmentsAndAPlainTextPart() throws {
        let content = MessageContent(subject: "{{ profile.first_name | default: \"friend\" }}, {{ profile.bonus }} {{ profile.bonus | plural: \"бонус\", \"бонуса\", \"бонусов\" }}",
                                     preheader: "Orders: {{ profile.orders.size }}", fromName: "Shop",
                                     html: "<h1>Hi {{ profile.first_name }}</h1>{% for o in profile.orders %}<p>{{ o.sku }} × {{ o.qty }}</p>{% endfor %}<a href=\"{{ message.unsubscribe_url }}\">Unsubscribe</a>{% include \"footer\" %}")
        let message = try ComposedMessage(content, channel: .email, fragments: { $0 == "footer" ? "<p>Shop Ltd, {{ profile.email }}</p>" : nil })
        #expect(message.variables.isSuperset(of: ["profile", "message"]))
        let rendered = try message.render(["profile": TemplateData.profile(Self.profile()), "message": ["unsubscribe_url": "https://t.example/u/1"]])
        #expect(rendered["subject"] == "Анна, 5 бонусов")
        #expect(rendered["preheader"] == "Orders: 2")
        #expect(rendered["html"] == "<h1>Hi Анна</h1><p>A-1 × 2</p><p>B-7 × 1</p><a href=\"https://t.example/u/1\">Unsubscribe</a><p>Shop Ltd, anna@example.com</p>")
        #expect(rendered["text"].contains("Hi Анна") && rendered["text"].contains("Unsubscribe (https://t.example/u/1)"))
    }

    @Test func syntaxErrorsNameThePartTheLineAndTheColumn() {
        let content = MessageContent(subject: "Hi {{ profile.name", html: "<p>ok</p>\n<p>{% if x %}</p>")
        do {
            _ = try ComposedMessage(content, channel: .email)
            Issue.record("a broken template compiled")
        } catch {
            #expect(error.failures.map(\.part) == ["subject", "html"])
            #expect(error.failures[1].line == 2)
            #expect(error.failures[0].message.hasPrefix("subject:1:"))
            #expect(error.failures[1].message.contains("^"))
        }
    }

    @Test func aPushHasATitleABodyAndButtons() throws {
        let content = MessageContent(title: "{{ profile.first_name }}", body: "Sale", image: "https://cdn.example/a.png", link: "app://sale",
                                     buttons: [PushButton(title: "Open", link: "app://sale/{{ profile.id }}")])
        let rendered = try ComposedMessage(content, channel: .webPush).render(["profile": TemplateData.profile(Self.profile())])
        #expect(rendered["title"] == "Анна" && rendered["buttons[0].link"].hasPrefix("app://sale/") && rendered["image"] == "https://cdn.example/a.png")
    }

    @Test func aRunawayLoopFailsOneRecipientWithTheReason() throws {
        let message = try ComposedMessage(MessageContent(body: "{% for i in (1..1000000) %}x{% endfor %}"), channel: .sms,
                                          limits: RenderLimits(loopIterations: 1000))
        #expect(throws: RenderFailure.self) { try message.render([:]) }
    }
}
