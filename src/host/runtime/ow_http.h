/* ow_http.h - the HTTP side of `tfaas runtime`: POST /init and POST /run
 * (a table of routes, each with its body limit) on libmicrohttpd, one
 * thread per connection (OpenWhisk's invoker holds one connection per
 * container, or one per concurrent activation), each request answered by
 * ow_runtime. Framing that could be read two ways is refused (the gateway's
 * framing.h); a body past its limit is dropped and answered 413 (at once when
 * it is far past: GATEWAY_MAX_DISCARD, as the gateway does). */
#ifndef TFAAS_HOST_RUNTIME_OW_HTTP_H
#define TFAAS_HOST_RUNTIME_OW_HTTP_H

#include "host/runtime/ow_runtime.h"

#include <sys/socket.h>

/* A connection silent this long (between requests, or mid-request) is closed. */
#define OW_HTTP_IDLE_TIMEOUT_S 300

typedef struct ow_http ow_http;

/* Serves rt on addr; max_connections at once (each a thread). NULL with
 * *err (malloc'd) when it cannot listen. */
ow_http *ow_http_start(ow_runtime *rt, const struct sockaddr *addr, unsigned max_connections, char **err);
unsigned ow_http_port(const ow_http *h);
/* Stops listening and waits for the connections' threads (their requests
 * answered: call after the scheduler has been quiesced). NULL is a no-op. */
void ow_http_stop(ow_http *h);

#endif
