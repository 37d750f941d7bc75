/* store_cluster.c - node leases and accepted activations in a shared
 * PostgreSQL store (store_cluster.h). Each call is one or a few statements,
 * each its own committed transaction: the lease thread's on the main
 * connection under db_lock, the accepted rows on a connection of their own
 * under its lock. */
#include "host/store/store_cluster.h"

#include "host/store/store_internal.h"

#include <stdlib.h>
#include <string.h>

struct store_cluster_conn {
    store *s;
    store_conn *conn; /* under lock */
    pthread_mutex_t lock;
};

static int is_pg(store *s) { return s && s->be == &store_pg_backend; }

/* Runs q alone (its own transaction) on conn under lock; STORE_OK or the
 * failure named `what`. Tried twice: every statement here is idempotent,
 * and a connection that PostgreSQL dropped fails one statement before it
 * is reset (store_pg.c). */
static store_status run_on(store *s, store_conn *conn, pthread_mutex_t *lock, store_query q, const store_val *args,
                           int n, store_row_fn rows, void *ud, const char *what) {
    if (!is_pg(s)) return store_fail("%s: several nodes need a PostgreSQL store", what);
    pthread_mutex_lock(lock);
    store_rc rc = s->be->run(conn, q, args, n, rows, ud, NULL);
    if (rc != SB_OK) rc = s->be->run(conn, q, args, n, rows, ud, NULL);
    store_status st = rc == SB_OK ? STORE_OK : store_fail_conn(s, conn, what);
    pthread_mutex_unlock(lock);
    return st;
}

/* The same on the main connection. */
static store_status run_one(store *s, store_query q, const store_val *args, int n, store_row_fn rows, void *ud,
                            const char *what) {
    return run_on(s, s ? s->db : NULL, s ? &s->db_lock : NULL, q, args, n, rows, ud, what);
}

store_cluster_conn *store_cluster_connect(store *s, const char *target, char **err) {
    *err = NULL;
    if (!is_pg(s)) {
        if (asprintf(err, "several nodes need a PostgreSQL store") < 0) *err = NULL;
        return NULL;
    }
    store_cluster_conn *c = calloc(1, sizeof *c);
    if (!c) goto err_alloc;
    c->s = s;
    if (!(c->conn = s->be->open(target, 0, err))) goto err_open;
    if (pthread_mutex_init(&c->lock, NULL) != 0) goto err_lock;
    return c;
err_lock:
    s->be->close(c->conn);
err_open:
    free(c);
    return NULL;
err_alloc:
    if (asprintf(err, "out of memory") < 0) *err = NULL;
    return NULL;
}

void store_cluster_disconnect(store_cluster_conn *c) {
    if (!c) return;
    c->s->be->close(c->conn);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

store_status store_cluster_renew(store *s, const char *node, int64_t lease_ms) {
    store_val args[] = {SV_TEXT_(node), SV_INT_(lease_ms)};
    return run_one(s, Q_CL_LEASE, args, 2, NULL, NULL, "renew the node lease");
}

store_status store_cluster_join(store *s, const char *node, int64_t lease_ms) {
    store_status st = run_one(s, Q_CL_NODES_TABLE, NULL, 0, NULL, NULL, "create tfaas_nodes");
    if (st == STORE_OK) st = run_one(s, Q_CL_INFLIGHT_TABLE, NULL, 0, NULL, NULL, "create tfaas_inflight");
    return st == STORE_OK ? store_cluster_renew(s, node, lease_ms) : st;
}

store_status store_cluster_accept(store_cluster_conn *c, const char *node, const char *id, const char *ns_id,
                                  const json_t *record) {
    char *doc = json_dumps(record, JSON_COMPACT);
    if (!doc) return store_fail("accept activation %s: out of memory", id);
    store_val args[] = {SV_TEXT_(id), SV_TEXT_(node), SV_TEXT_(ns_id), SV_TEXT_(doc)};
    store_status st = run_on(c->s, c->conn, &c->lock, Q_CL_ACCEPT, args, 4, NULL, NULL, "record an accepted activation");
    free(doc);
    return st;
}

store_status store_cluster_unaccept(store_cluster_conn *c, const char *id) {
    store_val args[] = {SV_TEXT_(id)};
    return run_on(c->s, c->conn, &c->lock, Q_CL_UNACCEPT, args, 1, NULL, NULL, "drop a refused activation's row");
}

/* Q_CL_ORPHANS rows: the record text and the ns_id, copied out. */
typedef struct {
    json_t *docs;   /* [[record, ns_id or null]...] */
} orphans;

static int orphan_row(void *ud, const store_val *cols, int ncols) {
    orphans *o = ud;
    if (ncols < 2 || cols[0].type != SV_TEXT) return 0;
    json_t *rec = json_loadb(cols[0].p, cols[0].n, 0, NULL);
    json_t *ns_id = cols[1].type == SV_TEXT ? json_stringn(cols[1].p, cols[1].n) : json_null();
    if (rec && ns_id) json_array_append_new(o->docs, json_pack("[oo]", rec, ns_id));
    else json_decref(rec), json_decref(ns_id);
    return 0;
}

store_status store_cluster_reap(store *s, int max, int *queued) {
    if (queued) *queued = 0;
    orphans o = {json_array()};
    if (!o.docs) return store_fail("reap lost activations: out of memory");
    store_val lim[] = {SV_INT_(max)};
    store_status st = run_one(s, Q_CL_ORPHANS, lim, 1, orphan_row, &o, "find lost activations");
    size_t i;
    json_t *pair;
    json_array_foreach(o.docs, i, pair) {
        /* A duplicate id (a peer queued it too, or the node's own record
         * landed meanwhile) is refused alone by the group commit. */
        store_activation_put(s, json_incref(json_array_get(pair, 0)), json_string_value(json_array_get(pair, 1)),
                             NULL, NULL);
        if (queued) (*queued)++;
    }
    json_decref(o.docs);
    /* What this pass queued is cleaned by a later one, once committed. */
    if (st == STORE_OK) st = run_one(s, Q_CL_CLEAN, NULL, 0, NULL, NULL, "drop recorded accepted activations");
    if (st == STORE_OK) st = run_one(s, Q_CL_EXPIRE, NULL, 0, NULL, NULL, "drop expired node leases");
    return st;
}
