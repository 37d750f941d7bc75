/* activations.c - GET /activations (list with filters), /activations/{id},
 * /activations/{id}/result and /activations/{id}/logs.
 *
 * A page of the list is bounded twice: OpenWhisk's `limit` (at most 200
 * documents) and LIST_MAX_BYTES of documents (issue 10, item 4: 200
 * records with 10 MB of logs each were 2 GB to read, parse and print while
 * every other tenant waited). A page cut by the byte bound holds at least
 * one document and says where the next page starts (x-tfaas-next-skip);
 * the documents are sent as stored, never parsed. */
#include "host/gateway/gateway_internal.h"
#include "host/gateway/query.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_LIMIT_DEFAULT 30
#define LIST_LIMIT_MAX 200
#define LIST_MAX_BYTES (4u << 20)

/* The JSON array of a page's stored documents, malloc'd; NULL out of memory. */
static char *page_json(const store_page *p, size_t *len) {
    size_t n = 2 + p->bytes + (p->n ? p->n - 1 : 0);
    char *out = malloc(n + 1), *w = out;
    if (!out) return NULL;
    *w++ = '[';
    for (size_t i = 0; i < p->n; i++) {
        if (i) *w++ = ',';
        memcpy(w, p->docs[i], p->lens[i]);
        w += p->lens[i];
    }
    *w++ = ']';
    *w = '\0';
    *len = n;
    return out;
}

static enum MHD_Result list(http_req *r) {
    int64_t limit, skip, since, upto;
    int docs;
    if (query_int(req_query(r, "limit"), 0, LIST_LIMIT_MAX, LIST_LIMIT_DEFAULT, &limit) < 0)
        return req_bad_query(r, "limit", "an integer in [0, 200]");
    if (query_int(req_query(r, "skip"), 0, INT32_MAX, 0, &skip) < 0)
        return req_bad_query(r, "skip", "a non-negative integer");
    if (query_int(req_query(r, "since"), 0, INT64_MAX, 0, &since) < 0)
        return req_bad_query(r, "since", "milliseconds since the epoch");
    if (query_int(req_query(r, "upto"), 0, INT64_MAX, 0, &upto) < 0)
        return req_bad_query(r, "upto", "milliseconds since the epoch");
    if (query_bool(req_query(r, "docs"), 0, &docs) < 0) return req_bad_query(r, "docs", "true or false");
    if (limit == 0) limit = LIST_LIMIT_MAX;
    const char *name = req_query(r, "name");
    if (name && (!*name || strlen(name) > 512)) return req_bad_query(r, "name", "an action name");
    int want_count;
    if (query_bool(req_query(r, "count"), 0, &want_count) < 0) return req_bad_query(r, "count", "true or false");
    if (want_count) {
        /* {"activations": N} over the same filters, a page at a time */
        size_t total = 0;
        for (int off = 0;; off += LIST_LIMIT_MAX) {
            json_t *page = NULL;
            if (store_activation_list(r->gw->store, r->ns, name, LIST_LIMIT_MAX, off, since, upto, 0, &page) != STORE_OK)
                return req_store_error(r);
            size_t n = json_array_size(page);
            json_decref(page);
            total += n;
            if (n < LIST_LIMIT_MAX) break;
        }
        return http_reply_json(r->conn, MHD_HTTP_OK, json_pack("{sI}", "activations", (json_int_t)total), NULL);
    }
    store_page page;
    if (store_activation_page(r->gw->store, r->ns, name, (int)limit, (int)skip, since, upto, docs, LIST_MAX_BYTES,
                              &page) != STORE_OK)
        return req_store_error(r);
    size_t len = 0;
    char *body = page_json(&page, &len);
    char next[32];
    snprintf(next, sizeof next, "%" PRId64, skip + (int64_t)page.n);
    http_header more = {"x-tfaas-next-skip", next};
    int truncated = page.truncated;
    store_page_free(&page);
    if (!body) return http_error(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "The server ran out of memory");
    return http_reply_bytes(r->conn, MHD_HTTP_OK, "application/json", body, len, &more, truncated ? 1 : 0);
}

/* Activation ids are 32 lowercase hex digits; anything else cannot exist. */
static int id_valid(const char *id) {
    if (strlen(id) != 32) return 0;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
    return 1;
}

enum MHD_Result activations_handle(http_req *r) {
    if (r->rt.kind == ROUTE_ACTIVATIONS) return list(r);
    json_t *rec = NULL;
    store_status st = id_valid(r->rt.name) ? store_activation_get(r->gw->store, r->ns, r->rt.name, &rec)
                                           : STORE_NOT_FOUND;
    if (st == STORE_NOT_FOUND) return http_error(r->conn, MHD_HTTP_NOT_FOUND, MSG_NOT_FOUND);
    if (st != STORE_OK) return req_store_error(r);
    json_t *body = rec;
    if (r->rt.kind == ROUTE_ACTIVATION_RESULT) {
        body = json_incref(json_object_get(rec, "response"));
        json_decref(rec);
    } else if (r->rt.kind == ROUTE_ACTIVATION_LOGS) {
        json_t *logs = json_object_get(rec, "logs");
        body = json_is_array(logs) ? json_pack("{sO}", "logs", logs) : json_pack("{s[]}", "logs");
        json_decref(rec);
    }
    return http_reply_json(r->conn, MHD_HTTP_OK, body, NULL);
}
