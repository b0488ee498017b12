import BounceParsing
import Testing

@Suite("Bounce analyser")
struct BounceAnalyzerTests {
    static let dsn = """
    From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
    To: bounces+c42.m7@herald.example.com
    Subject: Undelivered Mail Returned to Sender
    MIME-Version: 1.0
    Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

    --B1
    Content-Type: text/plain

    I'm sorry to have to inform you that your message could not be delivered.

    --B1
    Content-Type: message/delivery-status

    Reporting-MTA: dns; mx.example.net

    Final-Recipient: rfc822; Ann@Example.org
    Action: failed
    Status: 5.1.1
    Diagnostic-Code: smtp; 550 5.1.1 <ann@example.org>: Recipient address rejected: User unknown

    Final-Recipient: rfc822; bob@example.org
    Action: delayed
    Status: 4.2.2
    Diagnostic-Code: smtp; 452 4.2.2 Mailbox full

    Final-Recipient: rfc822; cid@example.org
    Action: delivered
    Status: 2.0.0

    --B1
    Content-Type: message/rfc822

    From: news@herald.example.com
    To: ann@example.org
    Subject: Spring

    Hello
    --B1--
    """

    @Test func readsEachFailedRecipientOfADeliveryStatusNotification() {
        let bounces = BounceAnalyzer.analyze(Self.dsn)
        #expect(bounces.map(\.recipient) == ["ann@example.org", "bob@example.org"], "the delivered recipient is not a bounce")
        #expect(bounces[0].status == "5.1.1" && bounces[0].replyCode == "550")
        #expect(bounces[0].reason == "userunknown" && bounces[0].kind == .hard)
        #expect(bounces[0].diagnostic.hasPrefix("550 5.1.1 <ann@example.org>"))
        #expect(bounces[1].status == "4.2.2" && bounces[1].kind == .soft)
        #expect(bounces[1].reason == "expired", "a delayed notice is a message still waiting")
    }

    @Test func readsAFeedbackReport() {
        let arf = """
        From: fbl@isp.example
        Content-Type: multipart/report; report-type=feedback-report; boundary="F"

        --F
        Content-Type: text/plain

        This is an email abuse report.
        --F
        Content-Type: message/feedback-report

        Feedback-Type: abuse
        User-Agent: ISP-FBL/1.0
        Version: 1
        Original-Rcpt-To: <eve@example.com>

        --F
        Content-Type: text/rfc822-headers

        From: news@herald.example.com
        To: eve@example.com
        --F--
        """
        let bounces = BounceAnalyzer.analyze(arf)
        #expect(bounces.count == 1)
        #expect(bounces.first?.recipient == "eve@example.com")
        #expect(bounces.first?.kind == .complaint)
        #expect(bounces.first?.feedbackType == "abuse")
    }

    @Test func readsAPlainTextBounce() {
        let qmail = """
        From: MAILER-DAEMON@mail.example.net
        To: news@herald.example.com
        Subject: failure notice

        Hi. This is the qmail-send program at mail.example.net.
        I'm afraid I wasn't able to deliver your message to the following addresses.

        <zed@example.org>:
        192.0.2.1 does not like recipient.
        Remote host said: 550 5.2.2 Mailbox quota exceeded

        --- Below this line is a copy of the message.

        From: news@herald.example.com
        To: zed@example.org
        """
        let bounces = BounceAnalyzer.analyze(qmail)
        #expect(bounces.map(\.recipient) == ["zed@example.org"])
        #expect(bounces.first?.status == "5.2.2")
        #expect(bounces.first?.reason == "mailboxfull")
        #expect(bounces.first?.kind == .soft)
    }

    @Test func garbageIsNotABounce() {
        #expect(BounceAnalyzer.analyze([0, 1, 2, 255, 254]).isEmpty)
        #expect(BounceAnalyzer.analyze("Subject: hello\n\nJust a letter without any address.").isEmpty)
    }

    @Test func readsAmazonSESNotifications() {
        let bounce = """
        From: no-reply@sns.amazonaws.com
        Subject: AWS Notification Message

        {"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bouncedRecipients":[{"emailAddress":"Gone@Example.com","action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}]},"mail":{"source":"news@herald.example.com"}}
        """
        let b = BounceAnalyzer.analyze(bounce)
        #expect(b.map(\.recipient) == ["gone@example.com"])
        #expect(b.first?.status == "5.1.1" && b.first?.replyCode == "550" && b.first?.kind == .hard)

        // The same through an SNS envelope, as a complaint.
        let inner = #"{"notificationType":"Complaint","complaint":{"complaintFeedbackType":"abuse","complainedRecipients":[{"emailAddress":"eve@example.com"}]}}"#
        let envelope = #"{"Type":"Notification","Message":""# + inner.replacingOccurrences(of: "\"", with: "\\\"") + #""}"#
        let c = BounceAnalyzer.analyze("From: no-reply@sns.amazonaws.com\n\n" + envelope)
        #expect(c.map(\.recipient) == ["eve@example.com"])
        #expect(c.first?.kind == .complaint && c.first?.feedbackType == "abuse")
    }
}
