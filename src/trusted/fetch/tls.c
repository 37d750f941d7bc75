/* tls.c - TLS client over a socket the host passed; see tls.h. */
#include "trusted/fetch/tls.h"

#include "common/embedded.h"
#include "common/errmsg.h"
#include "trusted/fetch/egress_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The CA set compiled in at build time (scripts/embed.cmake): Debian's PEM
 * bundle turned by openssl into one DER PKCS#7 structure holding only the
 * certificates (crl2pkcs7 -nocrl), half the bytes of the PEM text. */
EMBEDDED_BYTES(tfaas_ca_bundle);

struct tls_conn {
    int fd;
    SSL *ssl; /* NULL for plain http */
    uint64_t deadline_ns;
};

/* Made once, by the first connection (roots_once), read-only after: the
 * bundle is parsed from memory, so it needs no file and costs enclaves that
 * never fetch nothing. */
static SSL_CTX *ctx;
static STACK_OF(X509) *roots;
static pthread_once_t roots_once = PTHREAD_ONCE_INIT;

int tls_init(void) {
    /* OpenSSL reads its configuration here, before the sandbox forbids files. */
    return OPENSSL_init_ssl(0, NULL) == 1 ? 0 : -1;
}

static void load_roots(void) {
    const unsigned char *p = tfaas_ca_bundle;
    PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)tfaas_ca_bundle_len);
    STACK_OF(X509) *certs = p7 && PKCS7_type_is_signed(p7) && p7->d.sign ? p7->d.sign->cert : NULL;
    roots = sk_X509_new_null();
    ctx = SSL_CTX_new(TLS_client_method());
    if (!certs || !roots || !ctx) goto fail;
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    for (int i = 0; i < sk_X509_num(certs); i++) {
        X509 *x = sk_X509_value(certs, i);
        if (X509_STORE_add_cert(store, x) != 1 || !X509_up_ref(x)) goto fail;
        if (!sk_X509_push(roots, x)) {
            X509_free(x);
            goto fail;
        }
    }
    PKCS7_free(p7);
    p7 = NULL;
    if (sk_X509_num(roots) == 0) goto fail;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    /* No session cache: each activation starts clean, nothing of one
     * tenant's connections is kept for another's. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    return;
fail:
    ERR_clear_error();
    PKCS7_free(p7);
    sk_X509_pop_free(roots, X509_free);
    SSL_CTX_free(ctx);
    roots = NULL;
    ctx = NULL;
}

/* Stores of the compiled-in roots plus one policy's "ca", made once per
 * distinct CA (building one adds every root: milliseconds) and kept for
 * the process's life; a handful of policies name one. Guarded by
 * stores_lock; a store is read-only once made (OpenSSL locks its own
 * lookups), and each user takes a reference. */
#define STORE_CACHE 16
static pthread_mutex_t stores_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    unsigned char digest[32];
    X509_STORE *store;
} stores[STORE_CACHE];
static unsigned nstores, next_evict;

static X509_STORE *store_build(const char *pem) {
    X509_STORE *st = X509_STORE_new();
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    int ok = st && x && X509_STORE_add_cert(st, x) == 1;
    for (int i = 0; ok && i < sk_X509_num(roots); i++) ok = X509_STORE_add_cert(st, sk_X509_value(roots, i)) == 1;
    X509_free(x);
    BIO_free(b);
    if (!ok) {
        X509_STORE_free(st);
        return NULL;
    }
    return st;
}

/* A reference to the store for this CA (the caller frees it), or NULL. */
static X509_STORE *store_with(const char *pem) {
    unsigned char d[32];
    if (!EVP_Digest(pem, strlen(pem), d, NULL, EVP_sha256(), NULL)) return NULL;
    pthread_mutex_lock(&stores_lock);
    for (unsigned i = 0; i < nstores; i++) {
        if (memcmp(stores[i].digest, d, sizeof d) == 0) {
            X509_STORE *st = stores[i].store;
            X509_STORE_up_ref(st);
            pthread_mutex_unlock(&stores_lock);
            return st;
        }
    }
    pthread_mutex_unlock(&stores_lock);
    X509_STORE *st = store_build(pem);
    if (!st) return NULL;
    pthread_mutex_lock(&stores_lock);
    unsigned slot = nstores < STORE_CACHE ? nstores++ : next_evict++ % STORE_CACHE;
    if (stores[slot].store) X509_STORE_free(stores[slot].store);
    memcpy(stores[slot].digest, d, sizeof d);
    stores[slot].store = st;
    X509_STORE_up_ref(st);
    pthread_mutex_unlock(&stores_lock);
    return st;
}

/* Waits for the socket as OpenSSL asked (ret from an SSL call), by the deadline. */
static int wait_io(tls_conn *c, int want_write, char **err) {
    for (;;) {
        uint64_t ms = egress_ms_left(c->deadline_ns);
        if (ms == 0) return errmsg(err, "fetch: the activation's time limit ended the request");
        struct pollfd p = {.fd = c->fd, .events = want_write ? POLLOUT : POLLIN};
        int n = poll(&p, 1, ms > 60000 ? 60000 : (int)ms);
        if (n > 0) return 0;
        if (n < 0 && errno != EINTR) return errmsg(err, "fetch: poll: %s", strerror(errno));
    }
}

/* After an SSL call returned ret <= 0: 1 to retry, or -1 with *err. */
static int ssl_retry(tls_conn *c, int ret, const char *what, char **err) {
    int e = SSL_get_error(c->ssl, ret);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return wait_io(c, e == SSL_ERROR_WANT_WRITE, err) < 0 ? -1 : 1;
    unsigned long code = ERR_get_error();
    char buf[256] = "";
    if (code) ERR_error_string_n(code, buf, sizeof buf);
    ERR_clear_error();
    long vr = SSL_get_verify_result(c->ssl);
    if (vr != X509_V_OK)
        return errmsg(err, "fetch: TLS certificate verification failed: %s", X509_verify_cert_error_string(vr));
    return errmsg(err, "fetch: TLS %s failed%s%s", what, *buf ? ": " : "", buf);
}

tls_conn *tls_open(int fd, int https, const char *host, const char *extra_ca_pem, uint64_t deadline_ns,
                   char **err) {
    tls_conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        errmsg(err, "fetch: out of memory");
        return NULL;
    }
    c->fd = fd;
    c->deadline_ns = deadline_ns;
    if (!https) return c;
    pthread_once(&roots_once, load_roots);
    if (!ctx || !(c->ssl = SSL_new(ctx))) {
        errmsg(err, "fetch: TLS is not available");
        goto fail;
    }
    if (extra_ca_pem) {
        X509_STORE *st = store_with(extra_ca_pem);
        int ok = st && SSL_set1_verify_cert_store(c->ssl, st) == 1;
        X509_STORE_free(st); /* the SSL holds its own reference */
        if (!ok) {
            ERR_clear_error();
            errmsg(err, "fetch: the egress policy's \"ca\" is not a usable certificate");
            goto fail;
        }
    }
    unsigned char ip[16];
    int literal = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
    int ok = literal ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host) == 1
                     : SSL_set1_host(c->ssl, host) == 1 && SSL_set_tlsext_host_name(c->ssl, host) == 1;
    if (!ok || SSL_set_fd(c->ssl, fd) != 1) {
        ERR_clear_error();
        errmsg(err, "fetch: cannot set up TLS for %s", host);
        goto fail;
    }
    for (;;) {
        int r = SSL_connect(c->ssl);
        if (r == 1) break;
        if (ssl_retry(c, r, "handshake", err) < 0) goto fail;
    }
    return c;
fail:
    tls_close(c);
    return NULL;
}

int tls_write_all(tls_conn *c, const void *buf, size_t len, char **err) {
    const char *p = buf;
    while (len) {
        size_t chunk = len > (1u << 30) ? (1u << 30) : len;
        if (c->ssl) {
            int r = SSL_write(c->ssl, p, (int)chunk);
            if (r <= 0) {
                if (ssl_retry(c, r, "write", err) < 0) return -1;
                continue;
            }
            p += r;
            len -= (size_t)r;
        } else {
            ssize_t r = write(c->fd, p, chunk);
            if (r < 0) {
                if (errno == EINTR) continue;
                if (errno != EAGAIN && errno != EWOULDBLOCK) return errmsg(err, "fetch: write: %s", strerror(errno));
                if (wait_io(c, 1, err) < 0) return -1;
                continue;
            }
            p += r;
            len -= (size_t)r;
        }
    }
    return 0;
}

ssize_t tls_read(tls_conn *c, void *buf, size_t len, char **err) {
    if (len > (1u << 30)) len = 1u << 30;
    for (;;) {
        if (c->ssl) {
            int r = SSL_read(c->ssl, buf, (int)len);
            if (r > 0) return r;
            int e = SSL_get_error(c->ssl, r);
            /* A peer that closes without close_notify ends the stream too;
             * HTTP framing (Content-Length, chunked) says whether it was whole. */
            if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
                ERR_clear_error();
                return 0;
            }
            if (e == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
                ERR_clear_error();
                return 0;
            }
            if (ssl_retry(c, r, "read", err) < 0) return -1;
        } else {
            ssize_t r = read(c->fd, buf, len);
            if (r >= 0) return r;
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) return errmsg(err, "fetch: read: %s", strerror(errno));
            if (wait_io(c, 0, err) < 0) return -1;
        }
    }
}

void tls_close(tls_conn *c) {
    if (!c) return;
    if (c->ssl) SSL_free(c->ssl);
    if (c->fd >= 0) close(c->fd);
    free(c);
}
