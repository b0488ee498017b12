/// The roles every account starts with. They cannot be edited or deleted; custom roles can be
/// made from scratch or as a copy of one of these.
public enum BuiltInRole: String, CaseIterable, Sendable {
    case administrator
    case crmManager = "crm_manager"
    case marketer
    case analyst

    /// What the role allows.
    public var permissions: Set<Permission> {
        switch self {
        case .administrator:
            return Set(Permission.all)
        case .crmManager:
            // Everything about customers and messages; no account settings, users or audit.
            return Set(Permission.all.filter { ![.settings, .users, .audit].contains($0.resource) })
                .union([Permission(.settings, .view)])
        case .marketer:
            // Builds and sends messages to existing audiences; reads customer data but does not import,
            // export or delete it.
            var set = Set<Permission>()
            for resource: Permission.Resource in [.segments, .templates, .campaigns, .scenarios, .promoCodes, .forms] {
                set.formUnion(resource.actions.filter { $0 != .export && $0 != .import }.map { Permission(resource, $0) })
            }
            set.formUnion([Permission(.profiles, .view), Permission(.databases, .view), Permission(.reports, .view), Permission(.channels, .view)])
            return set
        case .analyst:
            // Reads everything a report needs and exports reports; changes nothing.
            var set = Set(Permission.all.filter { $0.action == .view && ![.settings, .users, .audit].contains($0.resource) })
            set.insert(Permission(.reports, .export))
            return set
        }
    }
}
