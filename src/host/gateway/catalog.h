/* catalog.h - the read-only whisk.system namespace: OpenWhisk's shared
 * packages every tenant can use (utils with echo, cat, sort, split, head,
 * date; alarms, whose feed actions the triggers work adds), installed in
 * the store at each start. Nobody holds whisk.system's credential (it is
 * random and thrown away), so no tenant can write there; its packages are
 * published, so resolve.h serves them as any other shared package. */
#ifndef TFAAS_HOST_GATEWAY_CATALOG_H
#define TFAAS_HOST_GATEWAY_CATALOG_H

#include "host/store/store_packages.h"

#define CATALOG_NAMESPACE STORE_SYSTEM_NAMESPACE

/* Creates whisk.system if missing (else gives it a new random credential,
 * thrown away like the first) and writes each catalog package and
 * action that is missing or differs from this build's (so an upgrade
 * replaces them and a restart leaves them be). 0, or -1 with a malloc'd
 * message in *err. */
int catalog_install(store *s, char **err);

#endif
