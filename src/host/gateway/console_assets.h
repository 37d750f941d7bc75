/* console_assets.h - the web console's files (src/host/gateway/console/),
 * compiled into tfaas by scripts/embed-assets.cmake so that the binary alone
 * serves /console, wherever it is installed. */
#ifndef TFAAS_HOST_GATEWAY_CONSOLE_ASSETS_H
#define TFAAS_HOST_GATEWAY_CONSOLE_ASSETS_H

#include <stddef.h>

typedef struct {
    const char *name;         /* file name: "index.html", "console.js", ... */
    const char *content_type;
    const unsigned char *data;
    size_t len;
} console_asset;

extern const console_asset console_assets[]; /* generated: build/gen/host/console_assets.c */
extern const size_t console_assets_count;

#endif
