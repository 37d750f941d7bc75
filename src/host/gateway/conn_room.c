/* conn_room.c - the room left in a connection's MHD pool; see conn_room.h. */
#include "host/gateway/conn_room.h"

#include <string.h>
#include <strings.h>

/* What MHD allocates from the pool for each parsed header, argument or
 * cookie (its list entry, rounded up to the pool's alignment). */
#define ENTRY_BYTES 64
/* MHD's own lines of an answer head: "HTTP/1.1 NNN Reason", Date,
 * Connection, Content-Length and the blank line, with room to spare. */
#define MHD_HEAD_BYTES 256
/* What the pool holds beyond the counted parts (its own bookkeeping, the
 * rounding of each allocation): measured, then doubled. */
#define SLACK_BYTES 512

static enum MHD_Result add_cookie_len(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    (void)kind;
    if (key && value && !strcasecmp(key, MHD_HTTP_HEADER_COOKIE)) *(size_t *)cls += strlen(value) + 1;
    return MHD_YES;
}

size_t conn_room_request(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    /* unknown (MHD answers it once the head is read): assume the worst */
    size_t used = ci ? ci->header_size : GATEWAY_CONN_MEMORY;
    /* MHD parses the Cookie header from a copy of it */
    MHD_get_connection_values(c, MHD_HEADER_KIND, add_cookie_len, &used);
    int entries = MHD_get_connection_values(
        c, MHD_HEADER_KIND | MHD_COOKIE_KIND | MHD_GET_ARGUMENT_KIND | MHD_FOOTER_KIND, NULL, NULL);
    return used + (entries > 0 ? (size_t)entries : 0) * ENTRY_BYTES + SLACK_BYTES;
}

size_t conn_room_head(const char *content_type, const http_header *hdrs, size_t n) {
    size_t bytes = MHD_HEAD_BYTES;
    if (content_type) bytes += strlen(MHD_HTTP_HEADER_CONTENT_TYPE) + strlen(content_type) + 4;
    for (size_t i = 0; i < n; i++) bytes += strlen(hdrs[i].name) + strlen(hdrs[i].value) + 4; /* ": ", CRLF */
    return bytes;
}

int conn_room_fits(struct MHD_Connection *c, size_t head_bytes) {
    size_t used = conn_room_request(c);
    return used < GATEWAY_CONN_MEMORY && head_bytes <= GATEWAY_CONN_MEMORY - used;
}
