import BSON
import Mongo
import Security

/// Works out what a user may do: the union of their own roles and their groups' roles.
public struct PermissionResolver: Sendable {
    let store: SecurityStore

    public init(store: SecurityStore) {
        self.store = store
    }

    public func permissions(of user: User) async throws -> Set<Permission> {
        var roleIds = Set(user.roleIds)
        if !user.groupIds.isEmpty {
            let groups = try await store.groups.find(SecurityStore.scoped(["_id": ["$in": .array(user.groupIds.map { .string($0) })]], in: user.accountId)).collect()
            for group in groups { roleIds.formUnion(group.roleIds) }
        }
        guard !roleIds.isEmpty else { return [] }
        let roles = try await store.roles.find(SecurityStore.scoped(["_id": ["$in": .array(roleIds.map { .string($0) })]], in: user.accountId)).collect()
        return roles.reduce(into: Set<Permission>()) { $0.formUnion($1.permissions) }
    }
}
