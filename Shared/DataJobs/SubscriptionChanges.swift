import BSON
import CustomerData
import Foundation

/// What tracked events change on profiles: an unsubscribe (a link or RFC 8058's one-click) makes
/// the subscriptions it names `unsubscribed`; a hard bounce `bounced`; a complaint `complained`.
/// Each change is written with the profile's version (retried when someone else wrote first).
public struct SubscriptionChanges: Sendable {
    let store: ProfileStore

    public init(store: ProfileStore) { self.store = store }

    /// The status an event kind sets, when it sets one.
    static func status(for kind: String, properties: BSONDocument) -> Subscription.Status? {
        switch kind {
        case "message.unsubscribed": .unsubscribed
        case "message.complained": .complained
        case "message.bounced": properties["bounce"] == "hard" ? .bounced : nil
        default: nil
        }
    }

    /// Applies the events that change subscriptions; returns how many subscriptions changed.
    @discardableResult
    public func apply(_ events: [ActivityEvent], databases: [String: ProfileDatabase]) async throws -> Int {
        var changed = 0
        for event in events {
            guard let status = Self.status(for: event.kind, properties: event.properties), let database = databases[event.databaseId],
                  case .string(let channelName)? = event.properties["channel"], let channel = Subscription.Channel(rawValue: channelName),
                  case .string(let address)? = event.properties["address"]
            else { continue }
            let resource: String = if case .string(let r)? = event.properties["resource"] { r } else { "" }
            for _ in 0..<5 {
                guard var profile = try await store.profile(event.profileId, in: database) else { break }
                let expected = profile.version
                var touched = 0
                for index in profile.subscriptions.indices {
                    let subscription = profile.subscriptions[index]
                    guard subscription.channel == channel, subscription.address.lowercased() == address.lowercased(),
                          resource.isEmpty || subscription.resource == resource, subscription.status != status else { continue }
                    profile.subscriptions[index].status = status
                    profile.subscriptions[index].updatedAt = event.at
                    touched += 1
                }
                guard touched > 0 else { break }
                profile.version += 1
                profile.updatedAt = Date()
                if try await store.replace(profile, expecting: expected) {
                    changed += touched
                    break
                }
            }
        }
        return changed
    }
}
