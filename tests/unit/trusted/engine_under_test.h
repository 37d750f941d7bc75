/* engine_under_test.h - which engine a per-engine trusted test checks.
 * CMakeLists.txt builds test_engine and test_enclave_process once per engine
 * and defines TFAAS_TEST_ENGINE_<name>; ENGINE_PREFIX is how that engine's
 * identity (engine_identity(), the enclave's hello) begins. */
#ifndef TFAAS_TESTS_ENGINE_UNDER_TEST_H
#define TFAAS_TESTS_ENGINE_UNDER_TEST_H

#if defined(TFAAS_TEST_ENGINE_v8)
#define ENGINE_PREFIX "v8/10."
#else
#define ENGINE_PREFIX "duktape/2."
#endif

#endif
