/* node_surface.h - what an action on V8 gets beyond the engine's globals:
 * CommonJS require() over a zip action's files, and for nodejs:* kinds
 * process (with OpenWhisk's __OW_* environment), Buffer and require() of the
 * bundled Node built-ins; js:* kinds get the environment as main's second
 * argument instead (docs/api.md). The logic of require() is JavaScript
 * (v8/loader.js); this file gives it the archive and a compiler, nothing
 * else: no file system, no network. */
#ifndef TFAAS_TRUSTED_V8_NODE_SURFACE_H
#define TFAAS_TRUSTED_V8_NODE_SURFACE_H

extern "C" {
#include "trusted/engine.h"
}

#include <v8.h>

#include <string>

namespace tfaas_v8 {

/* One heap's: its archive and the loader's handles. Used on the heap's thread only. */
struct NodeSurface;

enum class Load {
    kScript, /* the code is JavaScript: run it as a script */
    kZip,    /* a zip action whose main module is loaded: *exports holds its exports */
    kFailed, /* an exception is pending (a refused archive is a thrown string) */
};

/* Before the code first runs in a fresh heap: installs the kind's surface
 * (env NULL: none) and, when code is a zip archive, unzips and checks it
 * (common/code_archive.h; heaps given the same key, the code cache's
 * SHA-256 of tenant and code, share one copy; "" shares nothing) and loads
 * its main module. *s is made when needed and freed by
 * surface_free. */
Load surface_load(v8::Isolate *iso, v8::Local<v8::Context> ctx, NodeSurface **s, const engine_env *env,
                  const std::string &key, const char *code, size_t code_len, v8::Local<v8::Value> *exports);

/* Before each call: the activation's environment into process.env
 * (nodejs:*), or into *second, the argument js:* kinds' main gets after
 * the parameters (left empty without an environment). false: an exception
 * is pending. */
bool surface_env(v8::Isolate *iso, v8::Local<v8::Context> ctx, NodeSurface *s, const engine_env *env,
                 v8::Local<v8::Value> *second);

/* Bytes the heap holds outside V8 for its surface (the unzipped files,
 * shared or not): counted against the heap's memory limit with the rest. */
size_t surface_bytes(const NodeSurface *s);

/* With the isolate still alive and locked. */
void surface_free(NodeSurface *s);

} // namespace tfaas_v8

#endif
