/* fetch.h - the V8 enclave's fetch() and event loop (fetch.cc, fetch.js):
 * what engine_v8.cc calls. C++ only. */
#ifndef TFAAS_TRUSTED_V8_FETCH_H
#define TFAAS_TRUSTED_V8_FETCH_H

#include <v8.h>

#include <stdint.h>

struct fetch_activation;

/* Isolate data slot holding the running call's fetch_activation (or NULL). */
constexpr uint32_t V8_FETCH_SLOT = 1;

/* Installs fetch, Headers, Request, Response, AbortController, AbortSignal,
 * the timers and queueMicrotask on ctx's global, lazily: fetch.js is
 * compiled at the first access to any of them, and *loop (which must
 * outlive the context) then receives the event loop's {step, reset}; it
 * stays empty while no timer or request can exist. false on failure. */
bool v8_fetch_install(v8::Isolate *iso, v8::Local<v8::Context> ctx, v8::Global<v8::Object> *loop);

/* Drops every timer and queued request (the start of each call: nothing
 * outlives an activation). */
void v8_loop_reset(v8::Isolate *iso, v8::Local<v8::Context> ctx, const v8::Global<v8::Object> &loop);

typedef enum { V8_LOOP_SETTLED, V8_LOOP_STUCK, V8_LOOP_THREW } v8_loop_outcome;

/* Runs timers and requests until p settles, nothing is left that could
 * settle it (STUCK), or a callback threw or the deadline
 * (CLOCK_MONOTONIC ns) terminated execution (THREW: the caller's TryCatch
 * holds the exception). */
v8_loop_outcome v8_loop_run(v8::Isolate *iso, v8::Local<v8::Context> ctx, const v8::Global<v8::Object> &loop,
                            v8::Local<v8::Promise> p, uint64_t deadline_ns);

#endif
