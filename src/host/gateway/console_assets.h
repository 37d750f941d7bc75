/* console_assets.h - the web console's files (src/host/gateway/console/),
 * compiled into tfaas by scripts/embed.cmake so that the binary alone
 * serves /console, wherever it is installed. */
#ifndef TFAAS_HOST_GATEWAY_CONSOLE_ASSETS_H
#define TFAAS_HOST_GATEWAY_CONSOLE_ASSETS_H

#include "common/embedded.h"

/* {"index.html", ...}: generated, build/gen/host/console_assets.c */
EMBEDDED_FILES(console_assets);

#endif
