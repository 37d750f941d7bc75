/* node_sources.h - the JavaScript compiled into tfaas-enclave-v8 (and so
 * measured with it): tfaas's CommonJS loader (v8/loader.js) and npm's
 * browser ports of the Node built-ins, bundled at build time by
 * scripts/bundle-node-builtins.mjs into a generated node_sources.cc. */
#ifndef TFAAS_TRUSTED_V8_NODE_SOURCES_H
#define TFAAS_TRUSTED_V8_NODE_SOURCES_H

#include <cstddef>

namespace tfaas_v8 {

struct JsSource {
    const char *name; /* "util" for a built-in */
    const char *text; /* UTF-8, not NUL-terminated */
    size_t len;
};

extern const JsSource kLoader;
extern const JsSource kBuiltins[]; /* sorted by nothing: a handful, searched in turn */
extern const size_t kBuiltinsCount;

} // namespace tfaas_v8

#endif
