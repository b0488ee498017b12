#ifndef HERALD_CRESOLV_SHIM_H
#define HERALD_CRESOLV_SHIM_H

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <string.h>
#include <netdb.h>

/* Results of herald_dns_lookup besides a record count. */
#define HERALD_DNS_NXDOMAIN  (-1)  /* the name does not exist */
#define HERALD_DNS_NODATA    (-2)  /* the name exists, without records of the type */
#define HERALD_DNS_TRYAGAIN  (-3)  /* a server failure or a timeout */
#define HERALD_DNS_FAILED    (-4)  /* anything else (a malformed answer, no configuration) */

/*
 * Queries `name` for records of `type` (ns_t_mx, ns_t_a, ns_t_aaaa) with its own resolver state,
 * so that calls from several threads never share one (res_nquery is thread-safe with separate
 * states). `server` ("127.0.0.1") and `port` replace /etc/resolv.conf's name servers when given.
 *
 * Each record becomes one line in `out`: "preference host" for MX, the address for A and AAAA.
 * `ttl` receives the smallest TTL seen. Returns the record count or a HERALD_DNS_* code.
 */
static inline int herald_dns_lookup(const char *server, int port, const char *name, int type,
                                    char *out, int outsize, unsigned *ttl, int timeout, int attempts) {
    struct __res_state state;
    memset(&state, 0, sizeof(state));
    if (res_ninit(&state) != 0) return HERALD_DNS_FAILED;
    if (server && server[0]) {
        struct in_addr address;
        if (inet_pton(AF_INET, server, &address) != 1) { res_nclose(&state); return HERALD_DNS_FAILED; }
        state.nscount = 1;
        state.nsaddr_list[0].sin_family = AF_INET;
        state.nsaddr_list[0].sin_addr = address;
        state.nsaddr_list[0].sin_port = htons((unsigned short)port);
    }
    state.retrans = timeout;
    state.retry = attempts;
    unsigned char answer[8192];
    int length = res_nquery(&state, name, ns_c_in, type, answer, sizeof(answer));
    if (length < 0) {
        int error = state.res_h_errno;
        res_nclose(&state);
        if (error == HOST_NOT_FOUND) return HERALD_DNS_NXDOMAIN;
        if (error == NO_DATA) return HERALD_DNS_NODATA;
        if (error == TRY_AGAIN) return HERALD_DNS_TRYAGAIN;
        return HERALD_DNS_TRYAGAIN; /* NO_RECOVERY covers SERVFAIL/REFUSED: worth another try later */
    }
    res_nclose(&state);
    ns_msg message;
    if (ns_initparse(answer, length, &message) < 0) return HERALD_DNS_FAILED;
    int count = ns_msg_count(message, ns_s_an);
    int found = 0, used = 0;
    *ttl = 86400;
    out[0] = 0;
    for (int i = 0; i < count; i++) {
        ns_rr record;
        if (ns_parserr(&message, ns_s_an, i, &record) < 0) return HERALD_DNS_FAILED;
        if (ns_rr_type(record) != type) continue; /* CNAMEs on the way */
        if (ns_rr_ttl(record) < *ttl) *ttl = ns_rr_ttl(record);
        char line[NS_MAXDNAME + 16];
        if (type == ns_t_mx) {
            char host[NS_MAXDNAME];
            if (ns_rr_rdlen(record) < 3) return HERALD_DNS_FAILED;
            unsigned preference = ns_get16(ns_rr_rdata(record));
            if (dn_expand(ns_msg_base(message), ns_msg_end(message), ns_rr_rdata(record) + 2, host, sizeof(host)) < 0) return HERALD_DNS_FAILED;
            snprintf(line, sizeof(line), "%u %s\n", preference, host[0] ? host : ".");
        } else if (type == ns_t_a && ns_rr_rdlen(record) == 4) {
            char text[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, ns_rr_rdata(record), text, sizeof(text));
            snprintf(line, sizeof(line), "%s\n", text);
        } else if (type == ns_t_aaaa && ns_rr_rdlen(record) == 16) {
            char text[INET6_ADDRSTRLEN];
            inet_ntop(AF_INET6, ns_rr_rdata(record), text, sizeof(text));
            snprintf(line, sizeof(line), "%s\n", text);
        } else {
            continue;
        }
        int size = (int)strlen(line);
        if (used + size + 1 > outsize) break;
        memcpy(out + used, line, size + 1);
        used += size;
        found++;
    }
    return found > 0 ? found : HERALD_DNS_NODATA;
}

#endif
