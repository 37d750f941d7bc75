/* sim_platform.h - the simulated TEE platform of one installation: an ECDSA
 * P-256 key made once by `tfaas serve` in its state directory.
 *
 *   STATE/sim-platform.key  private key (PKCS#8 PEM, mode 0600); enclaves
 *                           read it at start-up (tfaas-enclave --platform-key)
 *   STATE/sim-platform.pem  public key: the root clients verify evidence
 *                           against (`tfaas attest --root STATE/sim-platform.pem`)
 *
 * Anyone who can read the private key file (the operator, root) can forge
 * evidence and unseal every key: sim mode shows the protocol, it does not
 * protect against the operator (docs/protocol.md §5). */
#ifndef TFAAS_HOST_KMS_SIM_PLATFORM_H
#define TFAAS_HOST_KMS_SIM_PLATFORM_H

#define SIM_PLATFORM_KEY "sim-platform.key"
#define SIM_PLATFORM_PEM "sim-platform.pem"

/* Makes the key pair unless both files exist and hold the same key. 0 with
 * *key_path (malloc'd) naming the private key, or -1 with *err malloc'd. */
int sim_platform_ensure(const char *state_dir, char **key_path, char **err);

#endif
