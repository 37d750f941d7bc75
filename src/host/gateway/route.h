/* route.h - maps a request path of the OpenWhisk REST API to a route: which
 * resource, and the namespace / entity name / activation id it names. Pure
 * string work (no I/O), so it is unit-tested on hostile paths. */
#ifndef TFAAS_HOST_GATEWAY_ROUTE_H
#define TFAAS_HOST_GATEWAY_ROUTE_H

#include <stddef.h>

#define ROUTE_MAX_PATH 4096 /* longer paths do not match any route (404) */

typedef enum {
    ROUTE_NONE = 0,          /* unknown path: 404 */
    ROUTE_INFO,              /* /api/v1 */
    ROUTE_NAMESPACES,        /* /api/v1/namespaces */
    ROUTE_ACTIONS,           /* /api/v1/namespaces/{ns}/actions; pkg set for the actions of a
                              * package: .../actions/{pkg}/ (trailing '/') or
                              * /api/v1/namespaces/{ns}/{pkg}/actions (the client's "ns/pkg") */
    ROUTE_ACTION,            /* /api/v1/namespaces/{ns}/actions/[{pkg}/]{name} */
    ROUTE_ACTIVATIONS,       /* /api/v1/namespaces/{ns}/activations */
    ROUTE_ACTIVATION,        /* .../activations/{id} */
    ROUTE_ACTIVATION_RESULT, /* .../activations/{id}/result */
    ROUTE_ACTIVATION_LOGS,   /* .../activations/{id}/logs */
    ROUTE_ATTESTATION,       /* /tfaas/v1/attestation */
    ROUTE_TRIGGERS,          /* /api/v1/namespaces/{ns}/triggers */
    ROUTE_TRIGGER,           /* .../triggers/{name}: GET PUT DELETE, POST fires */
    ROUTE_RULES,             /* /api/v1/namespaces/{ns}/rules */
    ROUTE_RULE,              /* .../rules/{name}: GET PUT DELETE, POST sets the status */
    /* confidential functions: /tfaas/v1/namespaces/{ns}/actions/{name}... */
    ROUTE_CONF_ACTION,       /* ...{name}: PUT, a confidential deploy */
    ROUTE_CONF_KEYS,         /* ...{name}/ohttp-keys: GET application/ohttp-keys */
    ROUTE_CONF_CERT,         /* ...{name}/certificate: GET the function certificate */
    ROUTE_CONF_OHTTP,        /* ...{name}/ohttp: POST message/ohttp-req */
    /* The same three under /tfaas/v1/public/namespaces/{ns}/actions/{name}/...
     * (is_public set): no credentials; only for functions whose policy names
     * invoker keys, which the enclave requires signatures of. */
    ROUTE_PACKAGES,          /* /api/v1/namespaces/{ns}/packages */
    ROUTE_PACKAGE,           /* /api/v1/namespaces/{ns}/packages/{name} */
    ROUTE_WEB,               /* /api/v1/web/{rest}: a web action, any method; name
                              * is {rest}, unsplit (web_path_parse reads it) */
    ROUTE_APIGW,             /* /apigw/{ns}{basepath}{relpath}: an API route, any
                              * method; name is what follows /apigw/, unsplit */
    ROUTE_METRICS,           /* /metrics: Prometheus text format (metrics_route.c) */
    ROUTE_CONSOLE,           /* /console[/{asset}]: the web console's files; name is
                              * the asset ("" for the page itself) */
    ROUTE_HEALTH,            /* /health: is this node taking work (health.c), for load balancers */
    ROUTE_KMS_TRANSFER,      /* /tfaas/v1/kms/transfer: POST, a joining node's key
                              * transfer hello (kms_transfer_route.c) */
} route_kind;

/* Methods a route accepts, for 405 and its Allow header. */
enum { ROUTE_GET = 1, ROUTE_PUT = 2, ROUTE_POST = 4, ROUTE_DELETE = 8 };

typedef struct {
    route_kind kind;
    const char *ns;   /* points into buf; NULL when the route has none */
    const char *name; /* action, package, trigger or rule name, or activation id; NULL when none */
    const char *pkg;  /* package of a ROUTE_ACTION or ROUTE_ACTIONS; NULL when none */
    int in_package;   /* ROUTE_ACTION named {pkg}/{name} */
    int is_public;    /* a ROUTE_CONF_{KEYS,CERT,OHTTP} under /tfaas/v1/public */
    char buf[ROUTE_MAX_PATH];
} route;

/* Fills r from a decoded path (no query string). A trailing '/' is ignored.
 * Returns r->kind. */
route_kind route_match(const char *path, route *r);
/* ROUTE_* bit of an HTTP method, 0 for any other method. */
int route_method_bit(const char *method);
/* Methods allowed on kind, and the Allow header text for them. */
int route_allowed(route_kind kind);
const char *route_allow_header(route_kind kind);

#endif
