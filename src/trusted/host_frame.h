/* host_frame.h - the enclave's check of every frame the host sends, apart
 * from the reader loop so it can be fuzzed without an engine. The host is
 * outside the trust boundary: a frame that fails here is a protocol
 * violation, and a frame that passes is safe for the workers to use as is. */
#ifndef TFAAS_TRUSTED_HOST_FRAME_H
#define TFAAS_TRUSTED_HOST_FRAME_H

#include "common/ipc.h"

/* NULL when m is a well-formed IPC_INVOKE, IPC_DROP or IPC_SHUTDOWN: an
 * INVOKE has exactly INV_NFIELDS fields, a non-empty function key and an
 * entry-point name without NUL bytes, 8-byte integer fields, a non-zero
 * timeout and a memory limit in 1..SIZE_MAX/2; a DROP has one non-empty
 * key without NUL bytes. Otherwise the reason, a static string. */
const char *host_frame_problem(const ipc_msg *m);

#endif
