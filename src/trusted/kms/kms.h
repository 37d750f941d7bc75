/* kms.h - the key service, an enclave of its own (tfaas-kms, kms_main.c):
 * no JavaScript engine, its own measurement and therefore its own sealing
 * key, which no worker enclave can derive (docs/protocol.md §5).
 *
 * It owns two keys that never leave it in clear: an ES256 signing key (it
 * signs function and worker certificates) and an X25519 HPKE key (tenants
 * seal code keys and policies to it). Between runs they live in a blob
 * sealed to the KMS's measurement (tee_seal) that the host stores; a restart
 * or a crash therefore loses no key. Its evidence binds both public keys:
 * report_data = evidence_bind(LABEL_KMS_REPORT, ES256 point || X25519 pk).
 *
 * The KMS serves one request at a time over the IPC channel (requests are
 * rare: deploys and key releases, not invocations); its keys and state
 * come back sealed from the host, so the host can restart it at will. A
 * KMS without keys may instead get them from another KMS of the same
 * measurement (kms_transfer.h), and the state shared by several nodes
 * comes with each request (IPC_KMS_SYNC). */
#ifndef TFAAS_TRUSTED_KMS_H
#define TFAAS_TRUSTED_KMS_H

/* Says hello, then serves until EOF or IPC_SHUTDOWN. Returns the process exit
 * status: 0 on a clean end, 1 on a protocol violation by the host. tee_init
 * must have run. */
int kms_run(int fd);

#endif
