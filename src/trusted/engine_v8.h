/* engine_v8.h - what the V8 engine offers beyond engine.h: counts of its
 * code cache, so tests can prove a second heap of a function does not
 * compile the source again. Only tfaas-enclave-v8 links an implementation. */
#ifndef TFAAS_TRUSTED_ENGINE_V8_H
#define TFAAS_TRUSTED_ENGINE_V8_H

#ifdef __cplusplus
extern "C" {
#endif

/* Loads that compiled from source, and loads that used cached code. */
void engine_v8_code_cache_counts(unsigned long *compiled, unsigned long *from_cache);

#ifdef __cplusplus
}
#endif

#endif
