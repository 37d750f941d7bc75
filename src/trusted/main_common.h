/* main_common.h - command-line steps both enclave binaries share
 * (tfaas-enclave's enclave_main.c, tfaas-kms's kms/kms_main.c and tfaas-qe's
 * qe/qe_main.c). */
#ifndef TFAAS_TRUSTED_MAIN_COMMON_H
#define TFAAS_TRUSTED_MAIN_COMMON_H

#include "trusted/tee.h"

/* A decimal in [min, max], or -1 when s is not one. */
long main_parse_num(const char *s, long min, long max);

/* --measurement: prints the measurement tee would report, in hex. Returns
 * the exit status (0, or 1 with the reason on stderr). */
int main_print_measurement(const char *prog, const tee_config *tee);

/* Is fd an open socket (the IPC channel)? 0, or -1 with the reason on stderr. */
int main_check_channel(const char *prog, long fd);

/* The IPC_HELLO of a service enclave (tfaas-kms, tfaas-qe) that serves
 * one request at a time: protocol version, its name as the engine, one
 * worker. 0 or -1. */
int main_send_hello(int fd, const char *name);

#endif
