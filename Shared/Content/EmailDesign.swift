import Foundation

/// An email built from blocks in the panel's block builder: rows of columns of blocks (text,
/// image, button, divider, spacer, social links, raw HTML, a loop over products), with the
/// design's width and colours. ``EmailHTML`` turns it into table-based, responsive email HTML.
public struct EmailDesign: Codable, Sendable, Equatable {
    public var width: Int
    public var background: String
    public var contentBackground: String
    public var fontFamily: String
    public var textColor: String
    public var linkColor: String
    public var rows: [EmailRow]

    public init(width: Int = 600, background: String = "#f4f4f5", contentBackground: String = "#ffffff", fontFamily: String = "Arial, Helvetica, sans-serif",
                textColor: String = "#222222", linkColor: String = "#1a56db", rows: [EmailRow] = [])
    {
        self.width = width
        self.background = background
        self.contentBackground = contentBackground
        self.fontFamily = fontFamily
        self.textColor = textColor
        self.linkColor = linkColor
        self.rows = rows
    }

    private enum CodingKeys: String, CodingKey { case width, background, contentBackground, fontFamily, textColor, linkColor, rows }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = EmailDesign()
        self.init(width: try c.decodeIfPresent(Int.self, forKey: .width) ?? defaults.width,
                  background: try c.decodeIfPresent(String.self, forKey: .background) ?? defaults.background,
                  contentBackground: try c.decodeIfPresent(String.self, forKey: .contentBackground) ?? defaults.contentBackground,
                  fontFamily: try c.decodeIfPresent(String.self, forKey: .fontFamily) ?? defaults.fontFamily,
                  textColor: try c.decodeIfPresent(String.self, forKey: .textColor) ?? defaults.textColor,
                  linkColor: try c.decodeIfPresent(String.self, forKey: .linkColor) ?? defaults.linkColor,
                  rows: try c.decodeIfPresent([EmailRow].self, forKey: .rows) ?? [])
    }
}

/// A row of the design: one to four columns side by side (stacked on narrow screens).
public struct EmailRow: Codable, Sendable, Equatable {
    public var columns: [EmailColumn]
    public var background: String?
    public var padding: Int?

    public init(columns: [EmailColumn], background: String? = nil, padding: Int? = nil) {
        self.columns = columns
        self.background = background
        self.padding = padding
    }
}

/// A column of a row: its share of the width in percent (equal shares when not given) and its blocks.
public struct EmailColumn: Codable, Sendable, Equatable {
    public var width: Int?
    public var blocks: [EmailBlock]

    public init(width: Int? = nil, blocks: [EmailBlock]) {
        self.width = width
        self.blocks = blocks
    }
}

/// A block; which properties apply depends on its type.
public struct EmailBlock: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable { case text, image, button, divider, spacer, social, html, products }

    public var type: Kind
    /// text: the text (simple HTML and template tags); html: the HTML.
    public var content: String?
    /// left, center or right.
    public var align: String?
    /// text: font size in px.
    public var size: Int?
    /// image: the address; button and image: the link.
    public var src: String?
    public var alt: String?
    public var href: String?
    /// image: the width in px (at most the column's).
    public var width: Int?
    /// button: the label; colours.
    public var label: String?
    public var color: String?
    public var textColor: String?
    /// spacer: the height in px; divider: the line's thickness.
    public var height: Int?
    /// social: the networks' links.
    public var links: [SocialLink]?
    /// products: the variable holding the list (a data source), how many, and the item's keys.
    public var source: String?
    public var limit: Int?
    public var imageKey: String?
    public var titleKey: String?
    public var priceKey: String?
    public var linkKey: String?

    public init(type: Kind, content: String? = nil, align: String? = nil, size: Int? = nil, src: String? = nil, alt: String? = nil, href: String? = nil,
                width: Int? = nil, label: String? = nil, color: String? = nil, textColor: String? = nil, height: Int? = nil, links: [SocialLink]? = nil,
                source: String? = nil, limit: Int? = nil, imageKey: String? = nil, titleKey: String? = nil, priceKey: String? = nil, linkKey: String? = nil)
    {
        self.type = type
        self.content = content
        self.align = align
        self.size = size
        self.src = src
        self.alt = alt
        self.href = href
        self.width = width
        self.label = label
        self.color = color
        self.textColor = textColor
        self.height = height
        self.links = links
        self.source = source
        self.limit = limit
        self.imageKey = imageKey
        self.titleKey = titleKey
        self.priceKey = priceKey
        self.linkKey = linkKey
    }
}

/// A social network's link in a social block.
public struct SocialLink: Codable, Sendable, Equatable {
    public var network: String
    public var url: String

    public init(network: String, url: String) {
        self.network = network
        self.url = url
    }
}
