/* cluster.c - the lease thread of a clustered node (cluster.h): renews the
 * node's lease three times per lease period, so two lost renewals in a row
 * still leave it held, and reaps the work of peers whose lease expired. */
#include "host/gateway/cluster.h"

#include "host/store/store_cluster.h"
#include "host/util/clock.h"
#include "host/util/ids.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REAP_BATCH 256 /* lost records queued per pass; more wait for the next */

struct cluster_node {
    store *store;
    store_cluster_conn *accepts; /* the accepted rows' own connection */
    unsigned lease_ms;
    char id[CLUSTER_NODE_NAME_MAX + 1 + 16 + 1]; /* name/incarnation: unique to this process */
    atomic_int healthy;
    pthread_t thread;
    pthread_mutex_t mu; /* guards stopping */
    pthread_cond_t cv;
    int stopping;
};

static int name_ok(const char *name) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > CLUSTER_NODE_NAME_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", name[i])) return 0;
    return 1;
}

static void *lease_main(void *arg) {
    cluster_node *c = arg;
    pthread_setname_np(pthread_self(), "cluster-lease");
    pthread_mutex_lock(&c->mu);
    while (!c->stopping) {
        struct timespec until = clock_mono_deadline(c->lease_ms / 3);
        while (!c->stopping && pthread_cond_timedwait(&c->cv, &c->mu, &until) == 0) {}
        if (c->stopping) break;
        pthread_mutex_unlock(&c->mu);
        int ok = store_cluster_renew(c->store, c->id, c->lease_ms) == STORE_OK;
        if (ok != atomic_exchange(&c->healthy, ok))
            fprintf(stderr, "tfaas serve: node %s %s its lease%s%s\n", c->id, ok ? "holds" : "cannot renew",
                    ok ? "" : ": ", ok ? "" : store_last_error());
        int queued = 0;
        if (store_cluster_reap(c->store, REAP_BATCH, &queued) != STORE_OK)
            fprintf(stderr, "tfaas serve: reaping lost activations: %s\n", store_last_error());
        else if (queued)
            fprintf(stderr, "tfaas serve: recorded %d activation(s) of lost nodes as failed\n", queued);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

cluster_node *cluster_start(store *s, const char *target, const char *name, unsigned lease_ms, char **err) {
    *err = NULL;
    if (!name_ok(name)) {
        if (asprintf(err, "--node: a name of 1 to %d letters, digits, '.', '_' or '-'", CLUSTER_NODE_NAME_MAX) < 0)
            *err = NULL;
        return NULL;
    }
    cluster_node *c = calloc(1, sizeof *c);
    if (!c) goto err_alloc;
    c->store = s;
    c->lease_ms = lease_ms;
    char incarnation[17];
    if (ids_hex(incarnation, 8) < 0) goto err_join;
    snprintf(c->id, sizeof c->id, "%s/%s", name, incarnation);
    if (store_cluster_join(s, c->id, lease_ms) != STORE_OK) goto err_join;
    char *why = NULL;
    if (!(c->accepts = store_cluster_connect(s, target, &why))) goto err_connect;
    atomic_init(&c->healthy, 1);
    if (pthread_mutex_init(&c->mu, NULL) != 0) goto err_mu;
    if (pthread_cond_init(&c->cv, NULL) != 0) goto err_cv;
    if (pthread_create(&c->thread, NULL, lease_main, c) != 0) goto err_thread;
    return c;
err_thread:
    pthread_cond_destroy(&c->cv);
err_cv:
    pthread_mutex_destroy(&c->mu);
err_mu:
    store_cluster_disconnect(c->accepts);
err_join:
    if (asprintf(err, "--node %s: %s", name, store_last_error()) < 0) *err = NULL;
    free(c);
    return NULL;
err_connect:
    if (asprintf(err, "--node %s: a second connection to the store: %s", name, why ? why : "unknown error") < 0)
        *err = NULL;
    free(why);
    free(c);
    return NULL;
err_alloc:
    if (asprintf(err, "--node %s: out of memory", name) < 0) *err = NULL;
    return NULL;
}

void cluster_stop(cluster_node *c) {
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    c->stopping = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    store_cluster_disconnect(c->accepts);
    free(c);
}

int cluster_accept(cluster_node *c, const char *id, const char *ns_id, const json_t *lost_record) {
    return store_cluster_accept(c->accepts, c->id, id, ns_id, lost_record) == STORE_OK ? 0 : -1;
}

void cluster_unaccept(cluster_node *c, const char *id) {
    if (store_cluster_unaccept(c->accepts, id) != STORE_OK)
        fprintf(stderr, "tfaas serve: refused activation %s keeps its accepted row: %s\n", id, store_last_error());
}

int cluster_healthy(const cluster_node *c) { return !c || atomic_load(&c->healthy); }
