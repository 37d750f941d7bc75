/* egress_policy.c - parsing and checking fetch() destinations; see
 * egress_policy.h. Pure: no I/O, used by the enclave and the host alike. */
#include "common/egress_policy.h"

#include "common/errmsg.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

const char *egress_verdict_name(egress_verdict v) {
    switch (v) {
    case EGRESS_OK: return "ok";
    case EGRESS_SCHEME: return "scheme";
    case EGRESS_HOST: return "host";
    case EGRESS_PORT: return "port";
    case EGRESS_ADDRESS: return "address";
    }
    return "unknown";
}

/* "1..65535" or "*" (-1); -2 when neither. */
static int parse_port(const char *s) {
    if (strcmp(s, "*") == 0) return -1;
    if (!*s || strlen(s) > 5) return -2;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p)) return -2;
        v = v * 10 + (*p - '0');
    }
    return v >= 1 && v <= 65535 ? (int)v : -2;
}

static int name_ok(const char *s) {
    if (!*s || strlen(s) > EGRESS_MAX_HOST) return 0;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_') return 0;
    return 1;
}

static int parse_entry(const char *text, egress_entry *e) {
    char buf[EGRESS_MAX_HOST + 16];
    if (strlen(text) >= sizeof buf) return -1;
    strcpy(buf, text);
    memset(e, 0, sizeof *e);
    char *host = buf, *port = NULL;
    if (buf[0] == '[') {
        char *close = strchr(buf, ']');
        if (!close) return -1;
        *close = '\0';
        host = buf + 1;
        if (close[1] == ':') port = close + 2;
        else if (close[1]) return -1;
    } else {
        char *colon = strrchr(buf, ':');
        if (colon) {
            *colon = '\0';
            port = colon + 1;
        }
    }
    if (port && (e->port = parse_port(port)) == -2) return -1;
    char *slash = strchr(host, '/');
    unsigned max_prefix = 32;
    if (slash) *slash = '\0';
    if (buf[0] == '[' && inet_pton(AF_INET6, host, e->addr) == 1) {
        e->kind = EGRESS_V6;
        max_prefix = 128;
    } else if (buf[0] != '[' && inet_pton(AF_INET, host, e->addr) == 1) {
        e->kind = EGRESS_V4;
    } else if (slash || buf[0] == '[') {
        return -1;
    } else if (strcmp(host, "*") == 0) {
        e->kind = EGRESS_ANY;
        return 0;
    } else {
        e->kind = strncmp(host, "*.", 2) == 0 ? EGRESS_SUFFIX : EGRESS_NAME;
        const char *n = e->kind == EGRESS_SUFFIX ? host + 2 : host;
        if (!name_ok(n)) return -1;
        for (size_t i = 0; n[i]; i++) e->name[i] = (char)tolower((unsigned char)n[i]);
        return 0;
    }
    e->prefix = max_prefix;
    if (slash) {
        char *end;
        long v = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || v < 0 || v > (long)max_prefix) return -1;
        e->prefix = (unsigned)v;
    }
    return 0;
}

static int limit_field(json_t *o, const char *key, uint64_t def, uint64_t *out, char **err) {
    json_t *v = json_object_get(o, key);
    if (!v) {
        *out = def;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return errmsg(err, "egress policy: \"%s\" must be a non-negative integer", key);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

int egress_policy_parse(const char *json, size_t len, egress_policy *out, char **err) {
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        return errmsg(err, "egress policy: not a JSON object");
    }
    static const char *const known[] = {"allow", "http", "ca", "maxConnections", "maxBytes"};
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        size_t i = 0;
        while (i < sizeof known / sizeof *known && strcmp(key, known[i]) != 0) i++;
        if (i == sizeof known / sizeof *known) {
            errmsg(err, "egress policy: unknown field \"%.64s\"", key);
            goto fail;
        }
    }
    json_t *allow = json_object_get(o, "allow");
    if (allow && !json_is_array(allow)) {
        errmsg(err, "egress policy: \"allow\" must be an array of host[:port] strings");
        goto fail;
    }
    if (json_array_size(allow) > EGRESS_MAX_ENTRIES) {
        errmsg(err, "egress policy: more than %d \"allow\" entries", EGRESS_MAX_ENTRIES);
        goto fail;
    }
    size_t i;
    json_array_foreach(allow, i, v) {
        if (!json_is_string(v) || parse_entry(json_string_value(v), &out->entries[out->nentries]) < 0) {
            errmsg(err, "egress policy: \"allow\" entry %zu is not host[:port] (a name, *.suffix, *, an IPv4 "
                        "address or CIDR, or [IPv6])", i);
            goto fail;
        }
        out->nentries++;
    }
    json_t *http = json_object_get(o, "http");
    if (http && !json_is_boolean(http)) {
        errmsg(err, "egress policy: \"http\" must be true or false");
        goto fail;
    }
    out->http = json_is_true(http);
    json_t *ca = json_object_get(o, "ca");
    if (ca && (!json_is_string(ca) || json_string_length(ca) > EGRESS_MAX_CA_BYTES ||
               !strstr(json_string_value(ca), "-----BEGIN CERTIFICATE-----"))) {
        errmsg(err, "egress policy: \"ca\" must be one PEM certificate of at most %u bytes", EGRESS_MAX_CA_BYTES);
        goto fail;
    }
    if (ca && !(out->ca = strdup(json_string_value(ca)))) {
        errmsg(err, "egress policy: out of memory");
        goto fail;
    }
    if (limit_field(o, "maxConnections", EGRESS_DEFAULT_CONNECTIONS, &out->max_connections, err) < 0 ||
        limit_field(o, "maxBytes", EGRESS_DEFAULT_BYTES, &out->max_bytes, err) < 0)
        goto fail;
    json_decref(o);
    return 0;
fail:
    json_decref(o);
    egress_policy_free(out);
    return -1;
}

void egress_policy_free(egress_policy *p) {
    free(p->ca);
    p->ca = NULL;
}

int egress_policies_parse(const char *json, size_t len, egress_policies *out, char **err) {
    memset(out, 0, sizeof *out);
    json_t *a = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > EGRESS_MAX_POLICIES) {
        json_decref(a);
        return errmsg(err, "egress policies: not an array of 1 or 2 policies");
    }
    for (size_t i = 0; i < json_array_size(a); i++) {
        char *text = json_dumps(json_array_get(a, i), JSON_COMPACT);
        int rc = text ? egress_policy_parse(text, strlen(text), &out->p[i], err) : errmsg(err, "out of memory");
        free(text);
        if (rc < 0) {
            egress_policies_free(out);
            json_decref(a);
            return -1;
        }
        out->n = i + 1;
    }
    json_decref(a);
    return 0;
}

void egress_policies_free(egress_policies *ps) {
    for (size_t i = 0; i < ps->n; i++) egress_policy_free(&ps->p[i]);
    ps->n = 0;
}

/* An address as 16 bytes (IPv4 mapped into ::ffff:0:0/96) and its family. */
typedef struct {
    uint8_t b[16];
    int v4; /* b[12..15] is an IPv4 address */
} addr16;

static int to_addr16(const struct sockaddr *sa, addr16 *a) {
    memset(a, 0, sizeof *a);
    if (sa->sa_family == AF_INET) {
        a->v4 = 1;
        a->b[10] = a->b[11] = 0xff;
        memcpy(a->b + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family != AF_INET6) return -1;
    memcpy(a->b, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    a->v4 = memcmp(a->b, mapped, 12) == 0; /* ::ffff:a.b.c.d is a.b.c.d */
    return 0;
}

static int prefix_match(const uint8_t *a, const uint8_t *net, unsigned bits) {
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(a, net, full) != 0) return 0;
    if (!rest) return 1;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (a[full] & mask) == (net[full] & mask);
}

/* Special-purpose ranges (RFC 6890 and successors) a function never reaches
 * by name: this host, private networks, link-local (169.254.169.254 is the
 * cloud metadata service), shared address space, multicast, reserved. */
static const struct {
    uint8_t net[16];
    unsigned bits;
    int v4;
} special[] = {
    {{0}, 8, 1},              /* 0.0.0.0/8 */
    {{10}, 8, 1},             /* 10/8 */
    {{100, 64}, 10, 1},       /* 100.64/10 shared (CGNAT) */
    {{127}, 8, 1},            /* loopback */
    {{169, 254}, 16, 1},      /* link-local, metadata */
    {{172, 16}, 12, 1},       /* 172.16/12 */
    {{192, 0, 0}, 24, 1},     /* IETF protocol assignments */
    {{192, 168}, 16, 1},      /* 192.168/16 */
    {{198, 18}, 15, 1},       /* benchmarking */
    {{224}, 3, 1},            /* multicast and reserved: 224/4, 240/4 */
    {{0}, 127, 0},            /* :: and ::1 */
    {{0, 0x64, 0xff, 0x9b}, 96, 0}, /* NAT64 64:ff9b::/96: embeds IPv4 we cannot check here */
    {{0xfc}, 7, 0},           /* unique local */
    {{0xfe, 0x80}, 10, 0},    /* link-local */
    {{0xfe, 0xc0}, 10, 0},    /* site-local (deprecated) */
    {{0xff}, 8, 0},           /* multicast */
    {{0x20, 0x02}, 16, 0},    /* 6to4: embeds IPv4 */
    {{0x20, 0x01, 0, 0}, 32, 0}, /* Teredo */
};

static int special16(const addr16 *a) {
    for (size_t i = 0; i < sizeof special / sizeof *special; i++) {
        if (special[i].v4 != a->v4) continue;
        if (prefix_match(a->v4 ? a->b + 12 : a->b, special[i].net, special[i].bits)) return 1;
    }
    return 0;
}

int egress_addr_is_special(const struct sockaddr *sa) {
    addr16 a;
    return to_addr16(sa, &a) < 0 ? 1 : special16(&a);
}

static int port_ok(const egress_entry *e, int port, int https) {
    if (e->port == -1) return 1;
    return port == (e->port ? e->port : https ? 443 : 80);
}

static int entry_has_addr(const egress_entry *e, const addr16 *a) {
    if (e->kind == EGRESS_V4) return a->v4 && prefix_match(a->b + 12, e->addr, e->prefix);
    if (e->kind == EGRESS_V6) return !a->v4 && prefix_match(a->b, e->addr, e->prefix);
    return 0;
}

/* One policy on an address: named ones pass, public ones pass "*". */
static egress_verdict policy_addr(const egress_policy *p, const addr16 *a, int port, int https, int by_name) {
    int host_seen = 0, special_addr = special16(a);
    for (size_t i = 0; i < p->nentries; i++) {
        const egress_entry *e = &p->entries[i];
        int host = entry_has_addr(e, a) || (!special_addr && (e->kind == EGRESS_ANY || by_name));
        if (!host) continue;
        host_seen = 1;
        if (port_ok(e, port, https)) return EGRESS_OK;
    }
    if (host_seen) return EGRESS_PORT;
    return special_addr ? EGRESS_ADDRESS : EGRESS_HOST;
}

static int name_matches(const egress_entry *e, const char *host) {
    if (e->kind == EGRESS_ANY) return 1;
    if (e->kind == EGRESS_NAME) return strcasecmp(e->name, host) == 0;
    if (e->kind != EGRESS_SUFFIX) return 0;
    size_t hl = strlen(host), sl = strlen(e->name);
    return hl > sl + 1 && host[hl - sl - 1] == '.' && strcasecmp(host + hl - sl, e->name) == 0;
}

egress_verdict egress_check_url(const egress_policies *ps, const char *scheme, const char *host, int port) {
    int https = strcmp(scheme, "https") == 0;
    if (!https && strcmp(scheme, "http") != 0) return EGRESS_SCHEME;
    if (ps->n == 0) return EGRESS_HOST;
    for (size_t k = 0; k < ps->n; k++)
        if (!https && !ps->p[k].http) return EGRESS_SCHEME;
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
    struct sockaddr_in s4 = {.sin_family = AF_INET};
    const struct sockaddr *lit = NULL;
    if (inet_pton(AF_INET, host, &s4.sin_addr) == 1) lit = (const struct sockaddr *)&s4;
    else if (inet_pton(AF_INET6, host, &s6.sin6_addr) == 1) lit = (const struct sockaddr *)&s6;
    for (size_t k = 0; k < ps->n; k++) {
        const egress_policy *p = &ps->p[k];
        egress_verdict v;
        if (lit) {
            addr16 a;
            to_addr16(lit, &a);
            v = policy_addr(p, &a, port, https, 0);
        } else {
            int host_seen = 0, ok = 0;
            for (size_t i = 0; i < p->nentries && !ok; i++) {
                if (!name_matches(&p->entries[i], host)) continue;
                host_seen = 1;
                ok = port_ok(&p->entries[i], port, https);
            }
            v = ok ? EGRESS_OK : host_seen ? EGRESS_PORT : EGRESS_HOST;
        }
        if (v != EGRESS_OK) return v;
    }
    return EGRESS_OK;
}

egress_verdict egress_check_addr(const egress_policies *ps, const struct sockaddr *sa, int port, int https) {
    addr16 a;
    if (to_addr16(sa, &a) < 0) return EGRESS_ADDRESS;
    if (ps->n == 0) return EGRESS_HOST;
    for (size_t k = 0; k < ps->n; k++) {
        egress_verdict v = policy_addr(&ps->p[k], &a, port, https, 1);
        if (v != EGRESS_OK) return v;
    }
    return EGRESS_OK;
}

uint64_t egress_max_connections(const egress_policies *ps) {
    uint64_t m = UINT64_MAX;
    for (size_t k = 0; k < ps->n; k++)
        if (ps->p[k].max_connections < m) m = ps->p[k].max_connections;
    return ps->n ? m : 0;
}

uint64_t egress_max_bytes(const egress_policies *ps) {
    uint64_t m = UINT64_MAX;
    for (size_t k = 0; k < ps->n; k++)
        if (ps->p[k].max_bytes < m) m = ps->p[k].max_bytes;
    return ps->n ? m : 0;
}
