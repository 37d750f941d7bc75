/* isolation.h - the three isolation modes (DESIGN.md §6) and the one mapping
 * from an activation to the enclave "unit" it runs in.
 *
 *   enclave-per-function  one enclave process per function (ns/name; every
 *                         revision and warm heap of it)
 *   enclave-per-tenant    one enclave process per namespace (the default)
 *   shared-enclave        one enclave process for every namespace
 *
 * Inside any enclave each function revision has its own heaps, so the mode
 * decides only what a crash, a kill or a noisy neighbour takes with it.
 * The server's mode (`tfaas serve --isolation`) is a floor: an action may ask
 * for a stricter mode with the annotation ISOLATION_ANNOTATION, never a
 * weaker one. Pure functions, no locking. */
#ifndef TFAAS_HOST_SCHEDULER_ISOLATION_H
#define TFAAS_HOST_SCHEDULER_ISOLATION_H

#include <stddef.h>

/* Ordered by strictness: a larger value shares an enclave with fewer. */
typedef enum {
    ISOLATION_UNSET = 0, /* no request: the server's mode applies */
    ISOLATION_SHARED = 1,
    ISOLATION_TENANT = 2,
    ISOLATION_FUNCTION = 3,
} isolation_mode;

#define ISOLATION_ANNOTATION "tfaas-isolation"
#define ISOLATION_NAMES "enclave-per-function, enclave-per-tenant or shared-enclave"
/* Longest unit key for a namespace and fn_key of at most `n` bytes each. */
#define ISOLATION_UNIT_MAX(n) (2 * (n) + 16)

/* "enclave-per-function" ...; "unset" for ISOLATION_UNSET. */
const char *isolation_name(isolation_mode m);
/* Exact mode name -> mode; -1 for anything else (NULL included). */
int isolation_parse(const char *s, isolation_mode *out);
/* The mode an activation runs in: the stricter of the server's and the
 * action's request (an unset request takes the server's). */
isolation_mode isolation_effective(isolation_mode server, isolation_mode requested);
/* 0 when an action may ask for `requested` on a server running `server`;
 * -1 with a message for a 400 otherwise (a weaker mode than the server's). */
int isolation_check_request(isolation_mode server, isolation_mode requested, char *err, size_t errsize);
/* "ns/name@version" -> length of "ns/name". The last '@' splits, since
 * OpenWhisk names may themselves contain '@' while versions do not. */
size_t isolation_fn_name_len(const char *fn_key);
/* The enclave unit of an activation of fn_key ("ns/name@version") in
 * namespace ns under the effective mode m, written to out:
 *   "function:ns/name", "tenant:ns" or "shared".
 * Activations with equal keys share an enclave process; this is the only
 * place that decides it. 0, or -1 if out is too small or m is unset. */
int isolation_unit_key(isolation_mode m, const char *ns, const char *fn_key, char *out, size_t outsize);
/* The mode a unit key was made for; ISOLATION_UNSET for anything else. */
isolation_mode isolation_unit_mode(const char *unit);
/* The namespace a unit key belongs to: a pointer to it inside `unit` and
 * its length in *len; NULL for "shared", which belongs to none. */
const char *isolation_unit_ns(const char *unit, size_t *len);
/* The namespace part of a function key or prefix ("ns/name@version"): its
 * length, up to the first '/' (namespaces hold no '/'). */
size_t isolation_fn_ns_len(const char *fn_key);

#endif
