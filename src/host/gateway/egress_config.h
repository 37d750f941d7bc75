/* egress_config.h - which egress policy an activation gets (fetch,
 * common/egress_policy.h): the operator's per-namespace policies
 * (tfaas serve --egress FILE), narrowed by the action's "egress"
 * annotation. */
#ifndef TFAAS_HOST_GATEWAY_EGRESS_CONFIG_H
#define TFAAS_HOST_GATEWAY_EGRESS_CONFIG_H

#include <jansson.h>
#include <stddef.h>

#define EGRESS_ANNOTATION "egress"

/* Reads FILE: a JSON object {"NAMESPACE": policy, ..., "*": policy}, "*"
 * for every namespace not named. Every policy is checked. A new
 * reference, or NULL with *err. */
json_t *egress_config_load(const char *path, char **err);

/* The activation's policies as the INVOKE carries them (a JSON array,
 * malloc'd): the namespace's (config[ns], else config["*"], else
 * EGRESS_DEFAULT_POLICY), then the annotation's if the action has one.
 * NULL when memory is short. config may be NULL (no --egress). */
char *egress_config_for(const json_t *config, const char *ns, const json_t *annotations);

/* An action's "egress" annotation, when it has one, must be a policy:
 * -1 with a message for a 400 otherwise. */
int egress_annotation_check(const json_t *annotations, char *err, size_t errsize);

#endif
