/* store_kms.c - the key service's state shared by the nodes of one store
 * (the kms_state table's one row): a blob sealed by the key services, which
 * the host cannot open, and a generation the host compares and swaps, so
 * two nodes' writes are ordered and neither is lost
 * (docs/architecture.md, "The key service on several nodes"). */
#include "host/store/store_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t generation;
    uint8_t *blob;
    size_t len;
    int found, nomem;
} kms_row;

static int read_row(void *ud, const store_val *cols, int ncols) {
    kms_row *r = ud;
    if (ncols < 2 || cols[0].type != SV_INT || cols[1].type != SV_BLOB) return 0;
    r->generation = cols[0].i;
    r->blob = malloc(cols[1].n ? cols[1].n : 1);
    if (!r->blob) {
        r->nomem = 1;
        return 1;
    }
    memcpy(r->blob, cols[1].p, cols[1].n);
    r->len = cols[1].n;
    r->found = 1;
    return 1;
}

store_status store_kms_state_get(store *s, int64_t *generation, uint8_t **blob, size_t *len) {
    kms_row r = {0};
    *blob = NULL;
    *generation = 0;
    pthread_mutex_lock(&s->db_lock);
    store_rc rc = store_run(s, Q_KMS_STATE_GET, NULL, 0, read_row, &r, NULL);
    store_status st = rc != SB_OK ? store_fail_db(s, "read the key service's shared state") : STORE_OK;
    pthread_mutex_unlock(&s->db_lock);
    if (st == STORE_OK && r.nomem) st = store_fail("out of memory");
    if (st != STORE_OK || !r.found) {
        free(r.blob);
        return st != STORE_OK ? st : STORE_NOT_FOUND;
    }
    *generation = r.generation;
    *blob = r.blob;
    *len = r.len;
    return STORE_OK;
}

store_status store_kms_state_put(store *s, int64_t expect, int64_t generation, const uint8_t *blob, size_t len) {
    store_val insert[] = {SV_INT_(generation), SV_BLOB_(blob, len)};
    store_val cas[] = {SV_INT_(expect), SV_INT_(generation), SV_BLOB_(blob, len)};
    int64_t changed = 0;
    pthread_mutex_lock(&s->db_lock);
    store_rc rc = expect == 0 ? store_run(s, Q_KMS_STATE_INSERT, insert, 2, NULL, NULL, &changed)
                              : store_run(s, Q_KMS_STATE_CAS, cas, 3, NULL, NULL, &changed);
    store_status st = rc != SB_OK ? store_fail_db(s, "store the key service's shared state") : STORE_OK;
    pthread_mutex_unlock(&s->db_lock);
    return st == STORE_OK && changed == 0 ? STORE_CONFLICT : st;
}
