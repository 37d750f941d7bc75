/* cmdline.h - option values the long-running commands (`tfaas serve`,
 * `tfaas runtime`) share: strict numbers, listen addresses, and the
 * executables installed next to `tfaas` (the enclaves). */
#ifndef TFAAS_HOST_UTIL_CMDLINE_H
#define TFAAS_HOST_UTIL_CMDLINE_H

#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>

/* Strict unsigned decimal in [min, max] (no sign, space or suffix): 0 with
 * *out, or -1. */
int cmdline_uint(const char *s, unsigned long min, unsigned long max, unsigned *out);
/* "ADDR:PORT" or "[V6ADDR]:PORT" with a numeric address -> socket address;
 * the address part (without brackets) is copied to host for printing.
 * 0, or -1 when spec is not of that form. */
int cmdline_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *len, char *host, size_t host_size);
/* cmdline_listen for the --listen option of `tfaas CMD`: on -1 it has
 * said so on stderr ("tfaas CMD: --listen 'SPEC' is not ADDR:PORT ..."). */
int cmdline_listen_opt(const char *cmd, const char *spec, struct sockaddr_storage *ss, socklen_t *len, char *host,
                       size_t host_size);
/* The path of the executable `name` in the directory of the running one
 * (malloc'd), or NULL. */
char *cmdline_beside_self(const char *name);
/* The stop signals (SIGINT, SIGTERM) in *sigs, blocked in this thread so
 * that it takes them synchronously (sigwait) and every thread it starts from
 * then on inherits the mask; SIGPIPE ignored (a peer that closed its
 * connection is a write error, not the end of the daemon). */
void cmdline_stop_signals(sigset_t *sigs);

#endif
