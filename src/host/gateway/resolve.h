/* resolve.h - THE name resolution of actions: "[/NS/][PKG/]NAME" as a
 * caller names it -> where the action is stored, the package parameters it
 * inherits, and whether the caller may read (and so invoke) it. Every path
 * that reads or runs an action by name goes through resolve_action: REST
 * get and invoke, and the internal callers (web actions, sequences, rules).
 *
 * OpenWhisk's rules, as implemented here:
 * - the caller's own namespace ("_" or its name): every action, in a
 *   package or not; a binding of it resolves to the package it binds;
 * - another namespace: only actions inside its *published* packages. Its
 *   unpackaged actions, private packages, packages that do not exist and
 *   its bindings are all refused alike (RESOLVE_FORBIDDEN, 403), so nothing
 *   about them leaks;
 * - a binding (own) to another namespace's package works while that package
 *   is published; package parameters are the bound package's overlaid with
 *   the binding's (the action's defaults and the invocation's go on top:
 *   that is the caller's business, resolved_params says how).
 * whisk.system is an ordinary namespace whose packages are published
 * (catalog.h), so it needs no case here. */
#ifndef TFAAS_HOST_GATEWAY_RESOLVE_H
#define TFAAS_HOST_GATEWAY_RESOLVE_H

#include "host/gateway/entity_name.h"
#include "host/store/store.h"

#include <jansson.h>

typedef enum {
    RESOLVE_OK = 0,
    RESOLVE_BAD_NAME,  /* 400: not "[/NS/][PKG/]NAME" of valid names */
    RESOLVE_NOT_FOUND, /* 404: no such package or action where the caller may look */
    RESOLVE_FORBIDDEN, /* 403: another namespace's entity the caller may not read */
    RESOLVE_ERROR,     /* 500: the store failed (store_last_error) */
} resolve_status;

#define RESOLVE_PATH_MAX (3 * (ACTION_MAX_NAME + 1))

typedef struct {
    char ns[ACTION_MAX_NAME + 1];           /* namespace the action is stored in */
    char ns_id[STORE_NSID_LEN + 1];         /* its id (set when foreign) */
    char store_name[2 * ACTION_MAX_NAME + 2]; /* its store key in ns: "NAME" or "PKG/NAME" */
    char name[ACTION_MAX_NAME + 1];         /* its simple name */
    char path[RESOLVE_PATH_MAX];            /* "NS/[PKG/]NAME" of the stored action (activation 'path') */
    char binding[2 * ACTION_MAX_NAME + 2];  /* "NS/BINDING" when reached through one, else "" */
    char denied[RESOLVE_PATH_MAX];          /* RESOLVE_FORBIDDEN: the entity refused, for the message */
    int foreign;                            /* stored in another namespace than the caller's */
    json_t *params;  /* package parameters as an object ({} outside packages); owned */
    json_t *action;  /* the action document, a store_action_peek reference: read-only */
} resolved_action;

/* Resolves the action `name` in package `pkg` (NULL or "": none) of
 * namespace `ns` (NULL, "" or "_": the caller's) for namespace `caller`.
 * On RESOLVE_OK out holds the action; release it with resolved_clear.
 * On any other result out holds nothing to release. */
resolve_status resolve_action(store *s, const char *caller, const char *ns, const char *pkg, const char *name,
                              resolved_action *out);
/* The same for a qualified name as text ("/NS/PKG/NAME", "PKG/NAME", ...),
 * for the internal callers (sequence components, rules). */
resolve_status resolve_action_text(store *s, const char *caller, const char *text, resolved_action *out);
void resolved_clear(store *s, resolved_action *r);
const char *resolve_status_name(resolve_status st);

/* Reads package `name` of `ns` for `caller` with the same rules: own
 * packages and bindings, or another namespace's published package (not its
 * bindings). *doc: new reference to the stored document; for RESOLVE_FORBIDDEN
 * *doc is NULL and nothing is said about whether it exists. */
resolve_status resolve_package(store *s, const char *caller, const char *ns, const char *name, json_t **doc);

/* The parameters an activation of r gets: package parameters, overlaid with
 * the action's defaults, overlaid with the invocation's `given` (OpenWhisk's
 * precedence). New object, NULL on OOM. */
json_t *resolved_params(const resolved_action *r, const json_t *given);

#endif
