/* fdpass.h - one file descriptor over an AF_UNIX socket (SCM_RIGHTS, one
 * byte of payload): how the host hands tfaas-qe its end of each worker's
 * quoting channel (host/kms/quote_service.c -> trusted/qe/qe.c). */
#ifndef TFAAS_COMMON_FDPASS_H
#define TFAAS_COMMON_FDPASS_H

/* Sends fd (the caller keeps its copy). 0, or -1 with errno. */
int fdpass_send(int sock, int fd);
/* Receives one: 0 with *fd (CLOEXEC; -1 when the message carried none),
 * or -1 when the socket is closed or broken. */
int fdpass_recv(int sock, int *fd);

#endif
