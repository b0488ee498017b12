import CustomerData
import Foundation

/// What a rule may need beyond the profile document, loaded for one profile by
/// ``AudienceQuery/facts(for:needing:)``: its activity events, the fixed segments it belongs to,
/// and its related profiles (with their own facts).
public struct ProfileFacts: Sendable, Equatable {
    public var activity: [ActivityEvent]
    public var segments: Set<String>
    public var relations: [RelatedProfile]

    public init(activity: [ActivityEvent] = [], segments: Set<String> = [], relations: [RelatedProfile] = []) {
        self.activity = activity
        self.segments = segments
        self.relations = relations
    }
}

/// A profile at the other end of a relation.
public struct RelatedProfile: Sendable, Equatable {
    public var kind: String
    /// The relation goes from the profile the facts are about to this one.
    public var outgoing: Bool
    public var profile: Profile
    public var facts: ProfileFacts

    public init(kind: String, outgoing: Bool, profile: Profile, facts: ProfileFacts = ProfileFacts()) {
        self.kind = kind
        self.outgoing = outgoing
        self.profile = profile
        self.facts = facts
    }
}
