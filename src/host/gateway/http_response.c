/* http_response.c - JSON and raw responses; see http_response.h. */
#include "host/gateway/http_response.h"

#include "host/util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum MHD_Result http_reply_json(struct MHD_Connection *c, unsigned status, json_t *body, const http_header *extra) {
    char *text = body ? json_dump_compact(body) : NULL;
    json_decref(body);
    if (!text) {
        /* Only out-of-memory lands here; a fixed body needs no allocation. */
        static const char oom[] = "{\"error\":\"The server ran out of memory\",\"code\":\"0\"}";
        struct MHD_Response *r = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
        if (!r) return MHD_NO;
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_INTERNAL_SERVER_ERROR, r);
        MHD_destroy_response(r);
        return ret;
    }
    return http_reply_bytes(c, status, "application/json", text, strlen(text), extra, extra ? 1 : 0);
}

enum MHD_Result http_reply_bytes(struct MHD_Connection *c, unsigned status, const char *content_type, void *data,
                                 size_t len, const http_header *extra, size_t nextra) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (!r) { free(data); return MHD_NO; }
    int ok = !content_type || MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) == MHD_YES;
    for (size_t i = 0; ok && i < nextra; i++) ok = MHD_add_response_header(r, extra[i].name, extra[i].value) == MHD_YES;
    if (!ok) {
        MHD_destroy_response(r);
        return MHD_NO;
    }
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}
