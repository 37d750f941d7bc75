/* activations.c - GET /activations (list with filters), /activations/{id},
 * /activations/{id}/result and /activations/{id}/logs.
 *
 * A page of the list is bounded twice: OpenWhisk's `limit` (at most 200
 * documents) and LIST_MAX_BYTES of documents (issue 10, item 4: 200
 * records with 10 MB of logs each were 2 GB to read, parse and print while
 * every other tenant waited). A page cut by the byte bound holds at least
 * one document and says where the next page starts (x-tfaas-next-skip);
 * the documents are sent as stored, never parsed. Every read here runs on a
 * reader thread (offload.h), not on the event thread that received it. */
#include "host/gateway/gateway_internal.h"
#include "host/gateway/query.h"

#include "host/util/json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* A listing's filters, parsed on the event thread for the reader. */
typedef struct {
    int64_t limit, skip, since, upto;
    int docs, count;
    char *name; /* NULL: every action */
} list_args;

/* A 200 with body (stolen) as JSON text; a NULL body or text is out of
 * memory (status 200 without a body answers 500). */
static void prepare_json(prepared *out, json_t *body) {
    out->body = body ? json_dump_compact(body) : NULL;
    out->len = out->body ? strlen(out->body) : 0;
    out->status = MHD_HTTP_OK;
    json_decref(body);
}

/* Reader thread: {"activations": N} over the filters, a page at a time. */
static void count_work(http_req *r, const list_args *a, prepared *out) {
    size_t total = 0;
    for (int off = 0;; off += LIST_LIMIT_MAX) {
        store_page page;
        if (store_activation_page(r->gw->store, r->ns, a->name, LIST_LIMIT_MAX, off, a->since, a->upto, 0, 0,
                                  &page) != STORE_OK) {
            out->store_failed = 1;
            return;
        }
        size_t n = page.n;
        store_page_free(&page);
        total += n;
        if (n < LIST_LIMIT_MAX) break;
    }
    prepare_json(out, json_pack("{sI}", "activations", (json_int_t)total));
}

/* Reader thread: one page, byte-bounded, as stored. */
static void list_work(http_req *r, void *arg, prepared *out) {
    list_args *a = arg;
    if (a->count) {
        count_work(r, a, out);
    } else {
        store_page page;
        if (store_activation_page(r->gw->store, r->ns, a->name, (int)a->limit, (int)a->skip, a->since, a->upto,
                                  a->docs, LIST_MAX_BYTES, &page) != STORE_OK) {
            out->store_failed = 1;
        } else {
            out->body = page_json(&page, &out->len);
            out->status = MHD_HTTP_OK;
            if (page.truncated) {
                out->hdr_name = "x-tfaas-next-skip";
                snprintf(out->hdr_value, sizeof out->hdr_value, "%" PRId64, a->skip + (int64_t)page.n);
            }
            store_page_free(&page);
        }
    }
    free(a->name);
    free(a);
}

static enum MHD_Result list(http_req *r) {
    list_args a = {0};
    if (query_int(req_query(r, "limit"), 0, LIST_LIMIT_MAX, LIST_LIMIT_DEFAULT, &a.limit) < 0)
        return req_bad_query(r, "limit", "an integer in [0, 200]");
    if (query_int(req_query(r, "skip"), 0, INT32_MAX, 0, &a.skip) < 0)
        return req_bad_query(r, "skip", "a non-negative integer");
    if (query_int(req_query(r, "since"), 0, INT64_MAX, 0, &a.since) < 0)
        return req_bad_query(r, "since", "milliseconds since the epoch");
    if (query_int(req_query(r, "upto"), 0, INT64_MAX, 0, &a.upto) < 0)
        return req_bad_query(r, "upto", "milliseconds since the epoch");
    if (query_bool(req_query(r, "docs"), 0, &a.docs) < 0) return req_bad_query(r, "docs", "true or false");
    if (a.limit == 0) a.limit = LIST_LIMIT_MAX;
    const char *name = req_query(r, "name");
    if (name && (!*name || strlen(name) > 512)) return req_bad_query(r, "name", "an action name");
    if (query_bool(req_query(r, "count"), 0, &a.count) < 0) return req_bad_query(r, "count", "true or false");
    list_args *arg = malloc(sizeof *arg);
    if (arg) *arg = a;
    if (!arg || (name && !(arg->name = strdup(name)))) {
        free(arg);
        return http_error(r->conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "The server ran out of memory");
    }
    return offload_run(r, list_work, arg);
}

/* Activation ids are 32 lowercase hex digits; anything else cannot exist. */
static int id_valid(const char *id) {
    if (strlen(id) != 32) return 0;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
    return 1;
}

/* Reader thread: one record, its response or its logs. */
static void record_work(http_req *r, void *arg, prepared *out) {
    (void)arg;
    json_t *rec = NULL;
    store_status st = id_valid(r->rt.name) ? store_activation_get(r->gw->store, r->ns, r->rt.name, &rec)
                                           : STORE_NOT_FOUND;
    if (st == STORE_NOT_FOUND) {
        out->status = MHD_HTTP_NOT_FOUND;
        out->msg = MSG_NOT_FOUND;
        return;
    }
    if (st != STORE_OK) {
        out->store_failed = 1;
        return;
    }
    json_t *body = rec;
    if (r->rt.kind == ROUTE_ACTIVATION_RESULT) {
        body = json_incref(json_object_get(rec, "response"));
        json_decref(rec);
    } else if (r->rt.kind == ROUTE_ACTIVATION_LOGS) {
        json_t *logs = json_object_get(rec, "logs");
        body = json_is_array(logs) ? json_pack("{sO}", "logs", logs) : json_pack("{s[]}", "logs");
        json_decref(rec);
    }
    prepare_json(out, body);
}

enum MHD_Result activations_handle(http_req *r) {
    if (r->rt.kind == ROUTE_ACTIVATIONS) return list(r);
    return offload_run(r, record_work, NULL);
}
