/* webaction.h - serving a web action (webaction.c) for the paths that
 * lead to one: /api/v1/web/... and an API route's /apigw/... (apimgmt.c).
 * Not for use outside src/host/gateway/. */
#ifndef TFAAS_HOST_GATEWAY_WEBACTION_H
#define TFAAS_HOST_GATEWAY_WEBACTION_H

#include "host/gateway/gateway_internal.h"
#include "host/gateway/web_request.h"

/* Runs action ns/[pkg/]name (pkg NULL or "": none) as a web action for r
 * and answers with its result the ext way; extra is the path after the
 * action (__ow_path, the projection); path_params (may be NULL) are a
 * route's {name} segments, passed as query parameters are. 404 unless
 * web-exported. */
enum MHD_Result web_serve(http_req *r, const char *ns, const char *pkg, const char *name, web_ext ext,
                          const char *extra, const json_t *path_params);

#endif
