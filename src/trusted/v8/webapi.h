/* webapi.h - the Web APIs of the V8 enclave (TextEncoder/TextDecoder,
 * atob/btoa, structuredClone, crypto, DOMException, Node's crypto subset,
 * URL/URLSearchParams): JavaScript compiled into the enclave (webapi.js,
 * the parts of webapi/ joined, over the natives of webapi.cc; whatwg-url
 * from npm, bundled at build time from bundle/), installed by
 * webapi_install.cc.
 *
 * Installed lazily: webapi_install only defines the global names; the first
 * access to one of them runs its module once in that context, inside the
 * load or call that touched it (so under its deadline and memory limit).
 * A function that uses none of them pays nothing. */
#ifndef TFAAS_TRUSTED_V8_WEBAPI_H
#define TFAAS_TRUSTED_V8_WEBAPI_H

#include <v8.h>

/* The global symbol (Symbol.for(WEBAPI_NODE_CRYPTO_KEY)) under which Node's
 * `crypto` subset is installed: require('crypto') resolves to it. */
#define WEBAPI_NODE_CRYPTO_KEY "tfaas.node.crypto"

/* Defines the lazy globals on ctx's global object; false when V8 refused. */
bool webapi_install(v8::Isolate *iso, v8::Local<v8::Context> ctx);

#endif
