/* webapi_natives.h - inside the V8 shim only: the object of native
 * functions webapi.js is called with (webapi.cc), for the installer
 * (webapi_install.cc). */
#ifndef TFAAS_TRUSTED_V8_WEBAPI_NATIVES_H
#define TFAAS_TRUSTED_V8_WEBAPI_NATIVES_H

#include <v8.h>

/* A fresh object of the natives (random, digest, ..., clone), each bound to
 * it; webapi.js sets its DOMException on it, which they then throw. */
v8::MaybeLocal<v8::Object> webapi_natives(v8::Isolate *iso, v8::Local<v8::Context> ctx);

#endif
