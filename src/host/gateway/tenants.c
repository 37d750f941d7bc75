/* tenants.c - how a running server notices namespaces deleted behind its
 * back and stops what they left running.
 *
 * `tfaas admin namespace delete` writes the store directly, from another
 * process. serve polls the store's namespace epoch (store_namespace_epoch,
 * which moves with every change another process commits) and, when it
 * moved, asks the store about each namespace the scheduler still holds
 * anything of. The scheduler knows namespaces by their tenant key "name#id"
 * (http_req.tenant), so a namespace deleted and then created again under the
 * same name is a different key: the old one is no longer alive and is
 * retired (queued work fails, its enclaves are killed, shared enclaves drop
 * its heaps), the new one starts from nothing. Records of the old one that
 * finish later are refused by the store (store_activation_put's ns_id). */
#include "host/gateway/gateway_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether the tenant key "name#id" names a namespace that no longer
 * exists; a store error counts as alive (retiring is not undone). */
static int tenant_gone(store *st, char *tenant) {
    char *hash = strrchr(tenant, '#');
    if (!hash) return 0;
    *hash = '\0';
    int gone = store_namespace_alive(st, tenant, hash + 1) == STORE_NOT_FOUND;
    *hash = '#';
    return gone;
}

unsigned gateway_retire_deleted(gateway *g, uint64_t *seen) {
    uint64_t epoch = store_namespace_epoch(g->store);
    if (epoch == *seen) return 0;
    *seen = epoch;
    size_t n = 0;
    char **tenants = scheduler_namespaces(g->scheduler, &n);
    unsigned retired = 0;
    for (size_t i = 0; i < n; i++) {
        /* Something of it may be left after a first retire (an activation
         * finishing in a shared enclave): said once, when something stopped. */
        if (tenant_gone(g->store, tenants[i]) && scheduler_retire(g->scheduler, tenants[i])) {
            fprintf(stderr, "tfaas serve: namespace %.300s was deleted: its enclaves and waiting work stopped\n",
                    tenants[i]);
            retired++;
        }
        free(tenants[i]);
    }
    free(tenants);
    return retired;
}
