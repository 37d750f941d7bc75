/* store_packages.h - packages and package bindings in the state database
 * (OpenWhisk's package documents), and the listing of a package's actions.
 * The actions themselves are store_action_* documents named "pkg/action".
 * Every function is thread-safe, like the rest of the store (store.h). */
#ifndef TFAAS_HOST_STORE_PACKAGES_H
#define TFAAS_HOST_STORE_PACKAGES_H

#include "host/store/store.h"

/* The read-only namespace of shared system packages (OpenWhisk's catalog):
 * `tfaas serve` installs it (gateway/catalog.h) with a credential nobody
 * keeps, and `tfaas admin` refuses to create or delete it, so no one can
 * ever write to it. */
#define STORE_SYSTEM_NAMESPACE "whisk.system"

/* Stores {parameters, annotations, publish, binding} (validated by the
 * caller; binding {} for a package, {namespace, name} for a binding) with
 * namespace, name, version ("0.0.1", the patch increased by each update)
 * and updated. is_binding says which of the two it is: an update may not
 * change it (STORE_CONFLICT, as for an existing name without overwrite:
 * the caller tells the two apart by reading first). *stored (may be NULL):
 * new reference to the stored document. */
store_status store_package_put(store *s, const char *ns, const char *name, json_t *doc, int is_binding,
                               int overwrite, json_t **stored);
store_status store_package_get(store *s, const char *ns, const char *name, json_t **out);
/* Newest-updated first. published_only: only packages with publish true
 * (what another namespace may list; bindings are never published). */
store_status store_package_list(store *s, const char *ns, int published_only, int limit, int skip, json_t **out);
/* STORE_CONFLICT with *held (may be NULL) the number of its actions when
 * the package still holds actions (OpenWhisk refuses to delete those);
 * *deleted (may be NULL): new reference to the removed document. */
store_status store_package_delete(store *s, const char *ns, const char *name, json_t **deleted, size_t *held);
/* The actions of package pkg in ns, newest-updated first, without their
 * code (like store_action_list). */
store_status store_package_actions(store *s, const char *ns, const char *pkg, int limit, int skip, json_t **out);

#endif
