/* entity_list.c - what triggers and rules share as collections: GET of one
 * page of a namespace's triggers or rules (newest update first) or their
 * count, and the per-namespace limit on how many there may be. */
#include "host/gateway/gateway_internal.h"
#include "host/gateway/query.h"

#include "host/store/store_entities.h"

enum MHD_Result entity_list_handle(http_req *r, int kind, const char *collection) {
    int64_t limit, skip;
    int want_count;
    if (query_bool(req_query(r, "count"), 0, &want_count) < 0) return req_bad_query(r, "count", "true or false");
    if (want_count) {
        int64_t n;
        if (store_entity_count(r->gw->store, (store_entity_kind)kind, r->ns, &n) != STORE_OK) return req_store_error(r);
        return http_reply_json(r->conn, MHD_HTTP_OK, json_pack("{sI}", collection, (json_int_t)n), NULL);
    }
    enum MHD_Result sent = MHD_NO;
    if (req_page(r, &limit, &skip, &sent) < 0) return sent;
    json_t *out = NULL;
    if (store_entity_list(r->gw->store, (store_entity_kind)kind, r->ns, (int)limit, (int)skip, &out) != STORE_OK)
        return req_store_error(r);
    return http_reply_json(r->conn, MHD_HTTP_OK, out, NULL);
}

int entity_room(http_req *r, int kind, const char *name, const char *what, enum MHD_Result *sent) {
    json_t *doc = NULL;
    store_status st = store_entity_get(r->gw->store, (store_entity_kind)kind, r->ns, name, &doc);
    json_decref(doc);
    if (st == STORE_OK) return 0; /* an update, or a 409 from the put */
    int64_t n = 0;
    if (st == STORE_ERROR || store_entity_count(r->gw->store, (store_entity_kind)kind, r->ns, &n) != STORE_OK) {
        *sent = req_store_error(r);
        return -1;
    }
    if (n < ENTITY_MAX_PER_NAMESPACE) return 0;
    *sent = http_error(r->conn, MHD_HTTP_FORBIDDEN, "The namespace has %lld %s, the most it may have",
                       (long long)n, what);
    return -1;
}
