#ifndef HERALD_CLDAP_SHIM_H
#define HERALD_CLDAP_SHIM_H
#include <lber.h>
#include <ldap.h>

/* Cast macros Swift cannot import. */
static inline const char *herald_ldap_sasl_simple(void) { return LDAP_SASL_SIMPLE; }
static inline int herald_ldap_scope_base(void) { return LDAP_SCOPE_BASE; }
static inline int herald_ldap_scope_subtree(void) { return LDAP_SCOPE_SUBTREE; }
#endif
