import Foundation

/// "Has a relation of `kind` whose other profile matches `rule`": `outgoing` reads the relation
/// from this profile (A's referrer is B when A → B is `referrer`), `incoming` the other way.
public struct RelationRule: Codable, Sendable, Equatable {
    public enum Direction: String, Codable, Sendable { case outgoing, incoming, any }

    public var kind: String
    public var direction: Direction
    public var rule: SegmentRule

    public init(kind: String, direction: Direction = .outgoing, rule: SegmentRule = .all([])) {
        self.kind = kind
        self.direction = direction
        self.rule = rule
    }

    enum CodingKeys: String, CodingKey { case kind, direction, rule }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decode(String.self, forKey: .kind)
        direction = try c.decodeIfPresent(Direction.self, forKey: .direction) ?? .outgoing
        rule = try c.decodeIfPresent(SegmentRule.self, forKey: .rule) ?? .all([])
    }
}
