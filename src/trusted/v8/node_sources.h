/* node_sources.h - the JavaScript compiled into tfaas-enclave-v8 (and so
 * measured with it) by scripts/embed.cmake: tfaas's CommonJS loader
 * (v8/loader.js) and npm's browser ports of the Node built-ins, bundled at
 * build time by scripts/bundle-node-builtins.mjs, one file NAME.js each. */
#ifndef TFAAS_TRUSTED_V8_NODE_SOURCES_H
#define TFAAS_TRUSTED_V8_NODE_SOURCES_H

#include "common/embedded.h"

EMBEDDED_BYTES(tfaas_js_loader);
/* {"util.js", ...}: a handful, searched in turn */
EMBEDDED_FILES(tfaas_node_builtins);

#endif
