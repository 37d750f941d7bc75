/* triggers.h - firing a trigger without an HTTP request (the alarm feed,
 * alarms.c), the same way POST /triggers/{name} does (triggers.c). */
#ifndef TFAAS_HOST_GATEWAY_TRIGGERS_H
#define TFAAS_HOST_GATEWAY_TRIGGERS_H

#include "host/gateway/gateway.h"
#include "host/gateway/invoke.h"

#include <jansson.h>

typedef enum {
    FIRE_OK = 0,         /* fired: id_out is the trigger activation's id */
    FIRE_NO_ACTIVE_RULE, /* nothing to run; no record (OpenWhisk answers 204) */
    FIRE_NOT_FOUND,      /* no such trigger */
    FIRE_ERROR,          /* the store failed, or out of memory */
} fire_status;

/* Fires trigger `name` of c's namespace with payload (an object, borrowed):
 * every active rule's action is invoked (gateway_invoke_async) with the
 * trigger's parameters overlaid by the payload, and the trigger activation
 * recording each rule's outcome is queued to the store. annotations (a
 * {key, value} list, borrowed; may be NULL) go into that record: the alarm
 * feed names the time it fired for. */
fire_status trigger_fire(gateway *gw, const invoke_caller *c, const char *name, const json_t *payload,
                         const json_t *annotations, char id_out[33]);

#endif
