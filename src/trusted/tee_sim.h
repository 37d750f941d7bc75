/* tee_sim.h - what the quoting service (tfaas-qe) uses of the sim backend
 * beyond the tee.h interface: measuring another executable and signing
 * evidence for it with the platform key. */
#ifndef TFAAS_TRUSTED_TEE_SIM_H
#define TFAAS_TRUSTED_TEE_SIM_H

#include "common/evidence.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/* The sim measurement of the executable at path with engine identity
 * engine: SHA-256(file bytes || 0x00 || engine). 0, or -1 with *err. */
int tee_sim_measure_path(const char *path, const char *engine, uint8_t out[EVIDENCE_MEASUREMENT_LEN], char **err);

/* Evidence (common/evidence.h) signed by platform_key for that measurement,
 * engine and report_data; *evidence malloc'd. 0 or -1. */
int tee_sim_evidence(EVP_PKEY *platform_key, const uint8_t measurement[EVIDENCE_MEASUREMENT_LEN],
                     const char *engine, const uint8_t report_data[EVIDENCE_REPORT_DATA_LEN], char **evidence,
                     size_t *len);

#endif
