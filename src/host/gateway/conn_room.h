/* conn_room.h - how much of a connection's libmicrohttpd memory is left for
 * an answer's head. MHD (0.9.75) keeps the request's head, its parsed
 * headers, arguments and a second copy of its Cookie header, and then the
 * head of the answer it writes, in one fixed pool per connection
 * (GATEWAY_CONN_MEMORY). An answer whose head does not fit is not refused
 * when it is queued (MHD_queue_response says yes): MHD fails later, while
 * writing, and closes the connection without a word. The one answer whose
 * head the gateway does not bound itself is a web action's (the action
 * chooses its headers), so it checks here first and sends a small error
 * instead. The estimate errs on the side of "does not fit". */
#ifndef TFAAS_HOST_GATEWAY_CONN_ROOM_H
#define TFAAS_HOST_GATEWAY_CONN_ROOM_H

#include "host/gateway/http_response.h"

#include <microhttpd.h>
#include <stddef.h>

/* MHD_OPTION_CONNECTION_MEMORY_LIMIT: MHD's default, set explicitly
 * because conn_room counts against it. A larger pool costs every request
 * (MHD zeroes what was used of it after each one). */
#define GATEWAY_CONN_MEMORY ((size_t)32 * 1024)

/* Bytes of the pool the current request holds (an upper estimate). */
size_t conn_room_request(struct MHD_Connection *c);

/* Bytes the head of an answer with these headers takes (content_type may
 * be NULL), MHD's own lines (status, Date, Connection, Content-Length)
 * included. */
size_t conn_room_head(const char *content_type, const http_header *hdrs, size_t n);

/* 1 when an answer head of head_bytes fits beside the request on c. */
int conn_room_fits(struct MHD_Connection *c, size_t head_bytes);

#endif
