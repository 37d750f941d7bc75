/* cluster.h - this node's part in a cluster of `tfaas serve` nodes sharing
 * one PostgreSQL store (serve --node): the lease it renews, the "accepted"
 * row committed before an activation's id is given away (invoke.c), and the
 * reaping of activations that a dead node accepted and never finished
 * (store_cluster.h says how). docs/architecture.md, "Several nodes".
 *
 * Threads: cluster_accept runs on any request thread; the lease thread
 * renews and reaps; `healthy` is atomic. Everything else is fixed between
 * cluster_start and cluster_stop. */
#ifndef TFAAS_HOST_GATEWAY_CLUSTER_H
#define TFAAS_HOST_GATEWAY_CLUSTER_H

#include "host/store/store.h"

#include <jansson.h>

typedef struct cluster_node cluster_node;

#define CLUSTER_LEASE_MS_DEFAULT 5000
#define CLUSTER_NODE_NAME_MAX 64 /* [A-Za-z0-9._-] */

/* Joins the cluster as `name` (serve --node) on store s opened from target
 * (the --store URL: accepted rows get a connection of their own): NULL and
 * a malloc'd *err when the store is not PostgreSQL or cannot be written. A
 * peer reaps this node's unfinished work once lease_ms passed without a
 * renewal. */
cluster_node *cluster_start(store *s, const char *target, const char *name, unsigned lease_ms, char **err);
/* Stops renewing (the lease then expires as a dead node's would, after this
 * node's work is drained and recorded) and frees c; NULL is fine. */
void cluster_stop(cluster_node *c);
/* Writes, committed, that this node accepted activation id, with the record
 * to store should the node die first; 0, or -1 (the store's last error
 * says why): then the id must not be given away (invoke.c refuses the
 * invoke before it runs). */
int cluster_accept(cluster_node *c, const char *id, const char *ns_id, const json_t *lost_record);
/* Drops the row again when the activation was refused after all; a row
 * that cannot be dropped is logged (should this node die, its id, which no
 * client has, would get a "node lost" record). */
void cluster_unaccept(cluster_node *c, const char *id);
/* Whether the lease is held (the last renewal worked): a node that cannot
 * renew it reports itself unhealthy, since its peers may reap its work. */
int cluster_healthy(const cluster_node *c);
/* The message of a lost activation's record. */
#define CLUSTER_LOST_MESSAGE \
    "The node that accepted this activation stopped before it finished (node lost); it may or may not have run"

#endif
