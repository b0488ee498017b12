import CLDAP
import Foundation

/// One libldap connection (`LDAP *`), owned and closed by this object. Blocking; used from one
/// thread at a time (``LDAPDirectory`` runs it on NIO's blocking pool).
final class LDAPConnection {
    private let handle: OpaquePointer

    struct Entry {
        let dn: String
        let attributes: [String: [String]]
    }

    init(settings: LDAPSettings) throws(LDAPError) {
        var ld: OpaquePointer?
        let rc = ldap_initialize(&ld, settings.url)
        guard rc == LDAP_SUCCESS, let ld else {
            throw LDAPError(code: rc, operation: "connect to \(settings.url)", message: String(cString: ldap_err2string(rc)))
        }
        handle = ld
        var version = LDAP_VERSION3
        ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version)
        var timeout = timeval(tv_sec: settings.timeoutSeconds, tv_usec: 0)
        ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &timeout)
        ldap_set_option(ld, LDAP_OPT_TIMEOUT, &timeout)
        ldap_set_option(ld, LDAP_OPT_REFERRALS, nil)  // LDAP_OPT_OFF
        var demand = LDAP_OPT_X_TLS_DEMAND
        ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand)
        if !settings.caCertificateFile.isEmpty {
            ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, settings.caCertificateFile)
        }
        // A fresh TLS context per connection, so the options above apply to it (not a global one).
        var isServer: Int32 = 0
        ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &isServer)
        if settings.startTLS {
            try check(ldap_start_tls_s(ld, nil, nil), "StartTLS")
        }
    }

    deinit { ldap_unbind_ext_s(handle, nil, nil) }

    /// A simple bind. An empty password is refused here: LDAP treats it as an anonymous bind that
    /// "succeeds" (RFC 4513 5.1.2), which must never log anybody in.
    func bind(dn: String, password: String) throws(LDAPError) {
        guard !password.isEmpty else {
            throw LDAPError(code: 49, operation: "bind as \(dn)", message: "an empty password is refused (it would be an unauthenticated bind)")
        }
        var bytes = Array(password.utf8)
        let rc = bytes.withUnsafeMutableBufferPointer { buffer -> Int32 in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { pointer in
                var credentials = berval(bv_len: ber_len_t(buffer.count), bv_val: pointer)
                return ldap_sasl_bind_s(handle, dn, herald_ldap_sasl_simple(), &credentials, nil, nil, nil)
            }
        }
        try check(rc, "bind as \(dn)")
    }

    /// An anonymous bind, for "test connection" without a service account.
    func bindAnonymously() throws(LDAPError) {
        var credentials = berval(bv_len: 0, bv_val: nil)
        try check(ldap_sasl_bind_s(handle, nil, herald_ldap_sasl_simple(), &credentials, nil, nil, nil), "anonymous bind")
    }

    func search(base: String, subtree: Bool = true, filter: String, attributes: [String]) throws(LDAPError) -> [Entry] {
        var result: OpaquePointer?
        var cAttributes: [UnsafeMutablePointer<CChar>?] = attributes.map { strdup($0) } + [nil]
        defer { for pointer in cAttributes { free(pointer) } }
        let scope = subtree ? herald_ldap_scope_subtree() : herald_ldap_scope_base()
        let rc = ldap_search_ext_s(handle, base, scope, filter, &cAttributes, 0, nil, nil, nil, 1000, &result)
        defer { if let result { ldap_msgfree(result) } }
        try check(rc, "search \(base) for \(filter)")
        var entries: [Entry] = []
        var entry = ldap_first_entry(handle, result)
        while let current = entry {
            var dn = ""
            if let raw = ldap_get_dn(handle, current) {
                dn = String(cString: raw)
                ldap_memfree(raw)
            }
            var values: [String: [String]] = [:]
            for attribute in attributes {
                guard let list = ldap_get_values_len(handle, current, attribute) else { continue }
                var index = 0
                var texts: [String] = []
                while let value = list[index] {
                    let length = Int(value.pointee.bv_len)
                    texts.append(value.pointee.bv_val.withMemoryRebound(to: UInt8.self, capacity: length) {
                        String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
                    })
                    index += 1
                }
                ldap_value_free_len(list)
                values[attribute] = texts
            }
            entries.append(Entry(dn: dn, attributes: values))
            entry = ldap_next_entry(handle, current)
        }
        return entries
    }

    private func check(_ rc: Int32, _ operation: String) throws(LDAPError) {
        guard rc != LDAP_SUCCESS else { return }
        var message = String(cString: ldap_err2string(rc))
        var diagnostic: UnsafeMutablePointer<CChar>?
        if ldap_get_option(handle, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diagnostic) == LDAP_OPT_SUCCESS, let diagnostic {
            let text = String(cString: diagnostic)
            if !text.isEmpty { message += " (\(text))" }
            ldap_memfree(diagnostic)
        }
        throw LDAPError(code: rc, operation: operation, message: message)
    }
}
