/* store_cluster.h - what nodes sharing one PostgreSQL store keep there so
 * that no acknowledged activation is lost with a node: each node process
 * holds a lease row it renews, and before a node answers 202 with an
 * activation id (before the activation runs, for a non-blocking invoke) it
 * writes an "accepted" row carrying the record to store should it never
 * finish ("node lost"). Any node that finds accepted rows
 * of a node whose lease expired, still without a record, stores those
 * records; the activation id's primary key makes that happen once however
 * many peers find them. docs/architecture.md, "Several nodes".
 *
 * PostgreSQL only: every call answers STORE_ERROR on another backend. */
#ifndef TFAAS_HOST_STORE_CLUSTER_H
#define TFAAS_HOST_STORE_CLUSTER_H

#include "host/store/store.h"

#include <stdint.h>

/* Creates the tables when missing and takes the lease of `node` (a name
 * unique to this process: a restarted node is a new one, so the accepted
 * rows of its previous life are reaped as any dead node's). */
store_status store_cluster_join(store *s, const char *node, int64_t lease_ms);
/* Renews node's lease for lease_ms from now (the database's clock). */
store_status store_cluster_renew(store *s, const char *node, int64_t lease_ms);
/* A connection of its own to s's database (target: the --store URL) for
 * the accepted rows: they are written on the HTTP threads, and waiting for
 * the main connection's lock would put each behind a whole group commit.
 * NULL and a malloc'd *err when it cannot be had. Its lock serialises its
 * users. */
typedef struct store_cluster_conn store_cluster_conn;
store_cluster_conn *store_cluster_connect(store *s, const char *target, char **err);
void store_cluster_disconnect(store_cluster_conn *c);
/* Writes, committed before it returns, that node accepted activation id;
 * record is what to store for it should node die first (not stolen). */
store_status store_cluster_accept(store_cluster_conn *c, const char *node, const char *id, const char *ns_id,
                                  const json_t *record);
/* Drops that row again: the activation was refused after all (the
 * scheduler's queue was full), its id never given away. */
store_status store_cluster_unaccept(store_cluster_conn *c, const char *id);
/* Queues the records of up to `max` orphaned activations (accepted by a
 * node whose lease expired, never recorded) for the group commit, drops the
 * accepted rows that have a record now, and expired leases that hold none.
 * *queued (may be NULL) gets how many were queued. */
store_status store_cluster_reap(store *s, int max, int *queued);

#endif
