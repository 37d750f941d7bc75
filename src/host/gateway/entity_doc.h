/* entity_doc.h - trigger and rule documents from PUT bodies (OpenWhisk's
 * members, update semantics and errors), and the one resolver of the names
 * a rule gives for its trigger and action. Pure: no I/O, unit-tested. */
#ifndef TFAAS_HOST_GATEWAY_ENTITY_DOC_H
#define TFAAS_HOST_GATEWAY_ENTITY_DOC_H

#include <jansson.h>
#include <stddef.h>

#define ENTITY_NS_MAX 257 /* a namespace name and its NUL (GATEWAY_NS_MAX) */
#define ENTITY_NAME_MAX 257 /* an entity name (ACTION_MAX_NAME) and its NUL */

/* The trigger to store from a PUT body: parameters, annotations, limits and
 * publish; on update (old, the stored document) what the body leaves out is
 * kept. A `feed` annotation must be a valid entity path. NULL with a message
 * for a 400 in err. */
json_t *entity_trigger_build(const json_t *body, const json_t *old, char *err, size_t errsize);
/* The same for a rule's annotations and publish (its trigger, action and
 * status are the caller's: they need the store). */
json_t *entity_rule_build(const json_t *body, const json_t *old, char *err, size_t errsize);

typedef enum {
    ENTITY_REF_OK = 0,
    ENTITY_REF_BAD_NAME,  /* not NAME or /NS/NAME, or a part is not a valid name */
    ENTITY_REF_PACKAGED,  /* /NS/PKG/NAME or PKG/NAME: a packaged name (triggers are not in packages) */
} entity_ref_result;
const char *entity_ref_result_name(entity_ref_result r);
/* Resolves how a trigger is named (a rule's, a feed's triggerName): "NAME"
 * and "/_/NAME" are in caller_ns, "/NS/NAME" in NS; triggers are never in
 * packages. Actions are named through resolve.h instead. */
entity_ref_result entity_resolve(const char *caller_ns, const char *given, char ns_out[ENTITY_NS_MAX],
                                 char name_out[ENTITY_NAME_MAX]);

#endif
