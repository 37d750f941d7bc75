/* fetch.h - the Duktape enclave's fetch(): synchronous (Duktape has no
 * Promises), returning a Response-like object whose text(), json() and
 * arrayBuffer() return their values directly (docs/api.md). */
#ifndef TFAAS_TRUSTED_DUKTAPE_FETCH_H
#define TFAAS_TRUSTED_DUKTAPE_FETCH_H

#include "duktape.h"

struct fetch_activation;

/* The running call's network access (engine_duktape.c), NULL outside a call. */
struct fetch_activation *duk_heap_fetch(duk_context *ctx);

/* Defines the global fetch on ctx (called inside a safe call): an accessor
 * that compiles the function on its first use (fetch.c). */
void duk_fetch_install(duk_context *ctx);

#endif
