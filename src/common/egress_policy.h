/* egress_policy.h - where a function's fetch() may connect (docs/api.md,
 * "Egress policy").
 *
 * A policy is JSON set by the operator per namespace (tfaas serve --egress)
 * and optionally narrowed by an action's "egress" annotation:
 *
 *   {"allow": ["api.example.com", "*.example.org:8443", "203.0.113.7:443",
 *              "10.1.0.0/16:5432", "[2001:db8::1]"],
 *    "http": false, "ca": "-----BEGIN CERTIFICATE-----...",
 *    "maxConnections": 16, "maxBytes": 16777216}
 *
 * An entry is host[:port]; host is a DNS name, "*.suffix" (any name below
 * suffix), "*" (any name or public address), an IPv4 address or CIDR, or a
 * bracketed IPv6 address. Without a port an entry admits the scheme's
 * default port (443, or 80 for http:); ":*" admits any port.
 * Addresses in loopback, private, link-local (cloud metadata), shared,
 * multicast and reserved ranges are refused unless an entry names them by
 * address or CIDR: a name, or "*", never admits them, so a name that
 * resolves (or is rebound) to 127.0.0.1 is refused.
 *
 * Both sides use this module: the enclave checks the URL (scheme, host,
 * port) before it asks for a connection, the host checks each address it
 * resolved before it connects. A destination must pass every policy in
 * the list (namespace, then action): an annotation can only narrow. */
#ifndef TFAAS_COMMON_EGRESS_POLICY_H
#define TFAAS_COMMON_EGRESS_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EGRESS_MAX_ENTRIES 64
#define EGRESS_MAX_POLICIES 2
#define EGRESS_MAX_HOST 253
#define EGRESS_DEFAULT_CONNECTIONS 16u
#define EGRESS_DEFAULT_BYTES (16u << 20)
#define EGRESS_MAX_CA_BYTES (64u << 10)

typedef enum { EGRESS_NAME, EGRESS_SUFFIX, EGRESS_ANY, EGRESS_V4, EGRESS_V6 } egress_entry_kind;

typedef struct {
    egress_entry_kind kind;
    char name[EGRESS_MAX_HOST + 1]; /* NAME, SUFFIX (without "*."), lower case */
    uint8_t addr[16];               /* V4 (first 4 bytes), V6 */
    unsigned prefix;                /* CIDR prefix length in bits */
    int port;                       /* 0: the scheme's default, -1: any */
} egress_entry;

typedef struct {
    egress_entry entries[EGRESS_MAX_ENTRIES];
    size_t nentries;
    int http;                /* plain http: allowed */
    char *ca;                /* PEM of an extra trust anchor, or NULL (malloc'd) */
    uint64_t max_connections;
    uint64_t max_bytes;
} egress_policy;

/* The active policies of one activation: all must admit a destination. */
typedef struct {
    egress_policy p[EGRESS_MAX_POLICIES];
    size_t n;
} egress_policies;

typedef enum {
    EGRESS_OK = 0,
    EGRESS_SCHEME,   /* not https: (or http: without "http": true) */
    EGRESS_HOST,     /* no entry names the host */
    EGRESS_PORT,     /* an entry names the host, none with this port */
    EGRESS_ADDRESS,  /* a special-purpose address no entry names */
} egress_verdict;

const char *egress_verdict_name(egress_verdict v);

/* The policy used when the operator set none: public https on port 443. */
#define EGRESS_DEFAULT_POLICY "{\"allow\": [\"*\"]}"

/* Parses one policy object. 0, or -1 with *err (malloc'd) saying which
 * part is wrong. Free with egress_policy_free. */
int egress_policy_parse(const char *json, size_t len, egress_policy *out, char **err);
void egress_policy_free(egress_policy *p);

/* Parses the list the host sends with an INVOKE: a JSON array of 1 or 2
 * policy objects. 0, or -1 with *err. */
int egress_policies_parse(const char *json, size_t len, egress_policies *out, char **err);
void egress_policies_free(egress_policies *ps);

/* May a URL with this scheme ("https" or "http"), host (name or address
 * literal, IPv6 without brackets) and port be fetched? */
egress_verdict egress_check_url(const egress_policies *ps, const char *scheme, const char *host, int port);

/* May the host connect to this resolved address and port? Public
 * addresses pass (the name was checked by egress_check_url); a
 * special-purpose one only where every policy names it by address or CIDR
 * with this port. `https` says which default port applies to entries
 * without one. */
egress_verdict egress_check_addr(const egress_policies *ps, const struct sockaddr *sa, int port, int https);

/* The tightest of the policies' limits. */
uint64_t egress_max_connections(const egress_policies *ps);
uint64_t egress_max_bytes(const egress_policies *ps);

/* 1 when the address is in a special-purpose range (loopback, private,
 * link-local, ...): reachable only when an entry names it. */
int egress_addr_is_special(const struct sockaddr *sa);

#ifdef __cplusplus
}
#endif

#endif
