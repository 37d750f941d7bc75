/* health.c - GET /health: whether this node takes work, for a load
 * balancer's health checks (examples/cluster/haproxy.cfg). Cheap on purpose
 * (no store, no enclave): checked every second by each balancer. 200 while
 * serving; 503 once the node is stopping (so the balancer moves its actions
 * before it goes) or, with --node, while it cannot renew its lease (peers
 * may then record its unfinished work as lost). No credentials: it says
 * nothing but up or not. */
#include "host/gateway/gateway_internal.h"

#include "host/gateway/cluster.h"

enum MHD_Result health_handle(http_req *r) {
    gateway *gw = r->gw;
    if (atomic_load(&gw->stopping))
        return http_error(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "The platform is shutting down");
    if (!cluster_healthy(gw->cluster))
        return http_error(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "This node cannot renew its lease in the store");
    return http_reply_json(r->conn, MHD_HTTP_OK, json_pack("{ss}", "status", "ok"), NULL);
}
