import Foundation

extension BounceAnalyzer {
    /// Amazon SES notifications (delivered by SNS as e-mail): a JSON document with
    /// `notificationType` `Bounce` (`bouncedRecipients`) or `Complaint` (`complainedRecipients`),
    /// possibly wrapped in an SNS envelope whose `Message` is that JSON as a string.
    static func amazonSES(_ text: String) -> [Bounce]? {
        guard let open = text.firstIndex(of: "{"), let close = text.lastIndex(of: "}"), open < close else { return nil }
        let candidate = String(text[open...close])
        // Mail systems fold over-long lines with "!" and a line break; undo that first.
        let repaired = candidate.replacingOccurrences(of: "!\n ", with: "").replacingOccurrences(of: "!\r\n ", with: "")
        guard var object = (try? JSONSerialization.jsonObject(with: Data(repaired.utf8))) as? [String: Any] else { return nil }
        if object["notificationType"] == nil, let inner = object["Message"] as? String,
           let unwrapped = (try? JSONSerialization.jsonObject(with: Data(inner.utf8))) as? [String: Any]
        {
            object = unwrapped
        }
        switch object["notificationType"] as? String {
        case "Bounce":
            let bounce = object["bounce"] as? [String: Any] ?? [:]
            let recipients = bounce["bouncedRecipients"] as? [[String: Any]] ?? []
            return recipients.compactMap { r in
                guard let email = (r["emailAddress"] as? String).flatMap(address(in:)) else { return nil }
                let diagnostic = withoutDiagnosticType(r["diagnosticCode"] as? String ?? "")
                let status = (r["status"] as? String).flatMap(statusCode(in:)) ?? statusCode(in: diagnostic) ?? ""
                let reply = replyCode(in: diagnostic) ?? ""
                let reason = BounceReason.classify(status: status, diagnostic: diagnostic, action: r["action"] as? String ?? "failed")
                return .failure(email, status: status, replyCode: reply, reason: reason, diagnostic: diagnostic)
            }
        case "Complaint":
            let complaint = object["complaint"] as? [String: Any] ?? [:]
            let recipients = complaint["complainedRecipients"] as? [[String: Any]] ?? []
            return recipients.compactMap { r in
                guard let email = (r["emailAddress"] as? String).flatMap(address(in:)) else { return nil }
                return Bounce(recipient: email, status: "", replyCode: "", reason: "feedback", kind: .complaint, diagnostic: "",
                              feedbackType: (complaint["complaintFeedbackType"] as? String)?.lowercased())
            }
        case "Delivery":
            return []
        default:
            return nil
        }
    }
}
