/* tls.h - one outbound connection's byte stream: TLS (OpenSSL) with
 * certificate and host-name verification against the enclave's compiled-in
 * CA set (gen/trusted/ca_bundle.c, Debian's ca-certificates as DER at
 * build time: part of the binary, so of its measurement), or plain for
 * http:. Every
 * wait ends by the activation's deadline. */
#ifndef TFAAS_TRUSTED_FETCH_TLS_H
#define TFAAS_TRUSTED_FETCH_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct tls_conn tls_conn;

/* Initialises OpenSSL (which may read its configuration file), before
 * the sandbox (fetch_init). The CA set is parsed at the first connection. 0 or -1. */
int tls_init(void);

/* Takes fd (a connected non-blocking TCP socket; closed by tls_close, or
 * here on failure). https: TLS handshake for `host` (a name or address
 * literal), trusting the compiled-in set plus extra_ca_pem when not NULL.
 * NULL with *err on failure. */
tls_conn *tls_open(int fd, int https, const char *host, const char *extra_ca_pem, uint64_t deadline_ns,
                   char **err);
/* All of buf, or -1 with *err. */
int tls_write_all(tls_conn *c, const void *buf, size_t len, char **err);
/* Up to len bytes: n > 0, 0 at the end of the stream, -1 with *err. */
ssize_t tls_read(tls_conn *c, void *buf, size_t len, char **err);
void tls_close(tls_conn *c);

#endif
