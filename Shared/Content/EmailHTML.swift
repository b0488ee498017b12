import Foundation

/// Email HTML from a block design: nested tables (what every mail client lays out the same),
/// inline styles, a hidden preheader, columns that stack below the breakpoint, bulletproof
/// buttons, fluid images, and the template tags of the blocks kept as they are (rendered per
/// recipient afterwards). Colours and sizes are checked; text blocks are the writer's HTML.
public enum EmailHTML {
    public static func make(_ design: EmailDesign, subject: String = "", preheader: String = "") -> String {
        let width = min(max(design.width, 320), 900)
        let font = attribute(cleanFont(design.fontFamily))
        var out = """
        <!DOCTYPE html>
        <html lang="en" xmlns="http://www.w3.org/1999/xhtml">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="x-apple-disable-message-reformatting">
        <meta name="format-detection" content="telephone=no, date=no, address=no, email=no">
        <title>\(subject)</title>
        <style>
        body { margin: 0; padding: 0; width: 100% !important; -webkit-text-size-adjust: 100%; -ms-text-size-adjust: 100%; }
        table, td { mso-table-lspace: 0pt; mso-table-rspace: 0pt; border-collapse: collapse; }
        img { border: 0; outline: none; text-decoration: none; -ms-interpolation-mode: bicubic; }
        a { color: \(color(design.linkColor, "#1a56db")); }
        @media only screen and (max-width: \(width + 20)px) {
          .h-container { width: 100% !important; }
          .h-col { display: block !important; width: 100% !important; box-sizing: border-box; }
          .h-fluid { width: 100% !important; height: auto !important; }
        }
        </style>
        </head>
        <body style="margin:0;padding:0;background-color:\(color(design.background, "#f4f4f5"));">
        <div style="display:none;font-size:1px;line-height:1px;max-height:0;max-width:0;opacity:0;overflow:hidden;mso-hide:all;">\(preheader)</div>
        <table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:\(color(design.background, "#f4f4f5"));">
        <tr><td align="center" style="padding:24px 8px;">
        <!--[if mso]><table role="presentation" width="\(width)" cellpadding="0" cellspacing="0" border="0"><tr><td><![endif]-->
        <table role="presentation" class="h-container" width="\(width)" cellpadding="0" cellspacing="0" border="0" style="width:\(width)px;max-width:\(width)px;background-color:\(color(design.contentBackground, "#ffffff"));font-family:\(font);color:\(color(design.textColor, "#222222"));">

        """
        for row in design.rows {
            let padding = min(max(row.padding ?? 16, 0), 64)
            let background = row.background.map { "background-color:\(color($0, "#ffffff"));" } ?? ""
            out += "<tr><td style=\"padding:\(padding)px;\(background)\">\n"
            out += "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\"><tr>\n"
            let columns = row.columns.prefix(4)
            let shares = self.shares(columns.map(\.width))
            let inner = width - 2 * padding
            for (column, share) in zip(columns, shares) {
                let columnWidth = inner * share / 100
                let gutter = columns.count > 1 ? "padding:0 8px;" : ""
                out += "<td class=\"h-col\" width=\"\(share)%\" valign=\"top\" style=\"width:\(share)%;\(gutter)\">\n"
                for block in column.blocks { out += self.block(block, design: design, columnWidth: max(columnWidth - (columns.count > 1 ? 16 : 0), 50)) }
                out += "</td>\n"
            }
            out += "</tr></table>\n</td></tr>\n"
        }
        out += """
        </table>
        <!--[if mso]></td></tr></table><![endif]-->
        </td></tr>
        </table>
        </body>
        </html>

        """
        return out
    }

    /// Column widths in percent: the given ones, the rest shared equally, summing to 100.
    static func shares(_ widths: [Int?]) -> [Int] {
        let given = widths.compactMap { $0.map { min(max($0, 10), 90) } }.reduce(0, +)
        let open = widths.filter { $0 == nil }.count
        guard given <= 100, !(open == 0 && given != 100) else { return widths.map { _ in 100 / max(widths.count, 1) } }
        let each = open > 0 ? (100 - given) / open : 0
        return widths.map { $0.map { min(max($0, 10), 90) } ?? each }
    }

    static func block(_ block: EmailBlock, design: EmailDesign, columnWidth: Int) -> String {
        let align = ["left", "center", "right"].contains(block.align ?? "") ? block.align! : "left"
        switch block.type {
        case .text:
            let size = min(max(block.size ?? 16, 10), 48)
            return "<div style=\"font-size:\(size)px;line-height:1.5;text-align:\(align);margin:0 0 12px 0;\">\(block.content ?? "")</div>\n"
        case .image:
            let imageWidth = min(block.width ?? columnWidth, columnWidth)
            var image = "<img\(imageWidth >= 300 ? " class=\"h-fluid\"" : "") src=\"\(attribute(block.src ?? ""))\" alt=\"\(attribute(block.alt ?? ""))\" width=\"\(imageWidth)\" style=\"display:block;width:\(imageWidth)px;max-width:100%;height:auto;\(align == "center" ? "margin:0 auto;" : align == "right" ? "margin-left:auto;" : "")\">"
            if let href = block.href, !href.isEmpty { image = "<a href=\"\(attribute(href))\" target=\"_blank\">\(image)</a>" }
            return "<div style=\"margin:0 0 12px 0;text-align:\(align);\">\(image)</div>\n"
        case .button:
            let background = color(block.color ?? "", "#1a56db"), text = color(block.textColor ?? "", "#ffffff")
            let href = attribute(block.href ?? "#")
            return """
            <table role="presentation" cellpadding="0" cellspacing="0" border="0" align="\(align)" style="margin:\(align == "center" ? "0 auto 12px auto" : align == "right" ? "0 0 12px auto" : "0 0 12px 0");"><tr>
            <td align="center" bgcolor="\(background)" style="border-radius:6px;background-color:\(background);">
            <a href="\(href)" target="_blank" style="display:inline-block;padding:12px 24px;font-size:16px;font-weight:bold;line-height:20px;color:\(text);text-decoration:none;border-radius:6px;">\(block.label ?? "")</a>
            </td></tr></table>\n
            """
        case .divider:
            let thickness = min(max(block.height ?? 1, 1), 8)
            return "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"margin:0 0 12px 0;\"><tr><td style=\"border-top:\(thickness)px solid \(color(block.color ?? "", "#dddddd"));font-size:0;line-height:0;\">&nbsp;</td></tr></table>\n"
        case .spacer:
            let height = min(max(block.height ?? 24, 4), 200)
            return "<div style=\"height:\(height)px;line-height:\(height)px;font-size:0;\">&nbsp;</div>\n"
        case .social:
            let links = (block.links ?? []).filter { !$0.url.isEmpty }.map { link in
                "<a href=\"\(attribute(link.url))\" target=\"_blank\" style=\"display:inline-block;margin:0 6px;padding:6px 10px;border-radius:4px;background-color:#eeeeee;color:#333333;font-size:13px;text-decoration:none;\">\(text(link.network))</a>"
            }
            return "<div style=\"text-align:\(align);margin:0 0 12px 0;\">\(links.joined(separator: "\n"))</div>\n"
        case .html:
            return (block.content ?? "") + "\n"
        case .products:
            let source = identifier(block.source ?? "", "products")
            let limit = min(max(block.limit ?? 4, 1), 20)
            let image = identifier(block.imageKey ?? "", "image"), title = identifier(block.titleKey ?? "", "title")
            let price = identifier(block.priceKey ?? "", "price"), link = identifier(block.linkKey ?? "", "url")
            return """
            <table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="margin:0 0 12px 0;">
            {% for item in \(source) limit: \(limit) %}<tr>
            <td width="96" valign="top" style="width:96px;padding:0 12px 12px 0;"><a href="{{ item.\(link) }}" target="_blank"><img src="{{ item.\(image) }}" alt="{{ item.\(title) | escape }}" width="96" style="display:block;width:96px;height:auto;"></a></td>
            <td valign="top" style="padding:0 0 12px 0;font-size:15px;line-height:1.4;"><a href="{{ item.\(link) }}" target="_blank" style="font-weight:bold;text-decoration:none;">{{ item.\(title) | escape }}</a><br>{{ item.\(price) }}</td>
            </tr>{% endfor %}
            </table>\n
            """
        }
    }

    /// A CSS colour: `#rgb`, `#rrggbb`, `#rrggbbaa` or a word; else `fallback`.
    static func color(_ value: String, _ fallback: String) -> String {
        let ok = value.range(of: #"^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|#[0-9a-fA-F]{8}|[a-zA-Z]{3,20})$"#, options: .regularExpression) != nil
        return ok ? value : fallback
    }

    static func cleanFont(_ value: String) -> String {
        let cleaned = value.filter { $0.isLetter || $0.isNumber || " ,-'".contains($0) }
        return cleaned.isEmpty ? "Arial, Helvetica, sans-serif" : cleaned
    }

    /// A variable or key name for a loop; else `fallback`.
    static func identifier(_ value: String, _ fallback: String) -> String {
        value.range(of: #"^[A-Za-z_][A-Za-z0-9_]{0,63}(\.[A-Za-z_][A-Za-z0-9_]{0,63})*$"#, options: .regularExpression) != nil ? value : fallback
    }

    /// A value inside a double-quoted attribute: `"`, `<` and `>` escaped outside template tags
    /// (`{{ … }}`, `{% … %}`), which are kept for rendering.
    static func attribute(_ value: String) -> String {
        var out = "", rest = Substring(value)
        while !rest.isEmpty {
            if rest.hasPrefix("{{") || rest.hasPrefix("{%"), let end = rest.range(of: rest.hasPrefix("{{") ? "}}" : "%}") {
                out += rest[..<end.upperBound]
                rest = rest[end.upperBound...]
                continue
            }
            let c = rest.removeFirst()
            switch c {
            case "\"": out += "&quot;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.append(c)
            }
        }
        return out
    }

    /// Plain text as HTML.
    static func text(_ value: String) -> String {
        value.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
