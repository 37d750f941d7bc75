/* invoke.h - the gateway's one internal entry point for running an action
 * without an HTTP request (a rule's action when a trigger fires): the same
 * path as POST /actions/{name} (invoke.c) with its admission, budget,
 * activation id and record, answered like a non-blocking invoke. */
#ifndef TFAAS_HOST_GATEWAY_INVOKE_H
#define TFAAS_HOST_GATEWAY_INVOKE_H

#include "host/gateway/gateway.h"

#include <jansson.h>
#include <stddef.h>

/* Who invokes: a namespace's name, its id and its tenant key "name#id"
 * (gateway_internal.h's http_req holds the same three). */
typedef struct {
    const char *ns, *ns_id, *tenant;
} invoke_caller;

typedef enum {
    INVOKE_OK = 0,
    INVOKE_NOT_FOUND,    /* no such action */
    INVOKE_FORBIDDEN,    /* another namespace's action the caller may not run (resolve.h) */
    INVOKE_BAD_NAME,     /* not "[/NS/][PKG/]NAME" */
    INVOKE_CONFIDENTIAL, /* only an OHTTP request may invoke it */
    INVOKE_NO_MEMORY,
    INVOKE_STORE_ERROR,
    INVOKE_REFUSED,      /* the scheduler or the namespace's budget refused it */
    INVOKE_STOPPING,     /* the server is shutting down */
} invoke_status;

/* Starts action `name` ("[/NS/][PKG/]NAME", resolved for c's namespace by
 * resolve.h) with `given` (borrowed) over its parameters; cause (may be NULL) goes into its record as "cause". On
 * INVOKE_OK id_out holds its activation id; otherwise msg says why, as the
 * REST invoke would. */
invoke_status gateway_invoke_async(gateway *gw, const invoke_caller *c, const char *name, const json_t *given,
                                   const char *cause, char id_out[33], char *msg, size_t msg_size);

#endif
