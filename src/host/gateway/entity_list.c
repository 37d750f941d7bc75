/* entity_list.c - what triggers and rules share as collections: GET of one
 * page of a namespace's triggers or rules (newest update first) or their
 * count, and the answer when the store refuses a put for the per-namespace
 * limit on how many there may be (store_entity_put_bounded). */
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

enum MHD_Result entity_put_refused(http_req *r, int64_t held, const char *what) {
    if (!held) return http_error(r->conn, MHD_HTTP_CONFLICT, "resource already exists");
    return http_error(r->conn, MHD_HTTP_FORBIDDEN, "The namespace has %lld %s, the most it may have", (long long)held,
                      what);
}
