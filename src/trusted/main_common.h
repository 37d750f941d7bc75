/* main_common.h - command-line steps both enclave binaries share
 * (tfaas-enclave's enclave_main.c, tfaas-kms's kms/kms_main.c and tfaas-qe's
 * qe/qe_main.c). */
#ifndef TFAAS_TRUSTED_MAIN_COMMON_H
#define TFAAS_TRUSTED_MAIN_COMMON_H

#include "trusted/tee.h"

#include <stdio.h>

/* A decimal in [min, max], or -1 when s is not one. */
long main_parse_num(const char *s, long min, long max);

/* What every enclave binary's command line has. */
typedef struct {
    long fd;               /* --fd N, -1 until given */
    int print_measurement; /* --measurement */
    tee_config tee;        /* --tee, --tee-root, --platform-key */
} main_opts;

/* A binary's own options: argv[i] (with its value argv[i + 1]) -> how many
 * entries it used (1 or 2), 0 when it is unknown, MAIN_ARG_INVALID after
 * saying why on stderr, MAIN_ARG_DONE when it printed what was asked
 * (--version) and the process should exit 0. */
#define MAIN_ARG_INVALID (-1)
#define MAIN_ARG_DONE (-2)
typedef int (*main_own_option)(void *ctx, int argc, char **argv, int i);

/* Parses argv: the options of main_opts (--fd, --tee, --tee-root, --platform-key,
 * --measurement), --help/-h (usage to stdout), then own's. Returns -1 when
 * the process should go on, else its exit status (2 on a bad argument). */
int main_parse(const char *prog, int argc, char **argv, main_opts *o, void (*usage)(FILE *), main_own_option own,
               void *ctx);

/* After the arguments, for a binary that serves on o->fd: prints the
 * measurement if asked, else checks that --fd names a socket. Returns -1
 * when the process should go on, else the exit status (usage on a missing
 * --fd). */
int main_ready(const char *prog, const main_opts *o, void (*usage)(FILE *));


/* The IPC_HELLO of a service enclave (tfaas-kms, tfaas-qe) that serves
 * one request at a time: protocol version, its name as the engine, one
 * worker. 0 or -1. */
int main_send_hello(int fd, const char *name);

#endif
