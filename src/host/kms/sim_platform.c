/* sim_platform.c - the per-installation simulated platform key; see
 * sim_platform.h. Both files are read without following links and written
 * through file_write_atomic (a fresh file renamed into place), so a link
 * planted at either name is never read through or written through. */
#include "host/kms/sim_platform.h"
#include "common/errmsg.h"

#include "common/p256.h"
#include "host/util/file.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PEM_MAX (1u << 16)

/* The key in the PEM file at path: NULL with errno ENOENT when there is no
 * such file, another errno when it cannot be read (ELOOP: a link), and
 * errno 0 when it holds no P-256 key. */
static EVP_PKEY *read_key(const char *path, int private_key) {
    size_t len = 0;
    char *pem = (char *)file_read(path, PEM_MAX, &len);
    if (!pem) return NULL;
    EVP_PKEY *key = private_key ? p256_private_from_pem(pem, len) : p256_public_from_pem(pem, len);
    if (private_key) OPENSSL_cleanse(pem, len);
    free(pem);
    if (!key) errno = 0;
    return key;
}

/* Writes one half of key as PEM to path (0600 private, 0644 public). */
static int write_key(EVP_PKEY *key, const char *path, int private_key) {
    size_t len = 0;
    char *pem = private_key ? p256_private_pem(key, &len) : p256_public_pem(key);
    if (!pem) {
        errno = ENOMEM;
        return -1;
    }
    if (!private_key) len = strlen(pem);
    int rc = file_write_atomic(path, pem, len, private_key ? 0600 : 0644);
    int e = errno;
    if (private_key) OPENSSL_cleanse(pem, len);
    free(pem);
    errno = e;
    return rc;
}

static const char *why(int e) {
    return e == ELOOP ? "it is a symbolic link, which tfaas does not follow in its state directory" : strerror(e);
}

int sim_platform_ensure(const char *state_dir, char **key_path, char **err) {
    *key_path = NULL;
    *err = NULL;
    char *priv = NULL, *pub = NULL;
    if (asprintf(&priv, "%s/%s", state_dir, SIM_PLATFORM_KEY) < 0) return errmsg(err, "out of memory");
    if (asprintf(&pub, "%s/%s", state_dir, SIM_PLATFORM_PEM) < 0) {
        free(priv);
        return errmsg(err, "out of memory");
    }
    int rc = -1;
    EVP_PKEY *key = read_key(priv, 1), *pkey = NULL;
    if (key) {
        pkey = read_key(pub, 0);
        if (!pkey || EVP_PKEY_eq(key, pkey) != 1) {
            /* The public half can always be rewritten from the private one. */
            if (write_key(key, pub, 0) < 0) {
                errmsg(err, "cannot write %s: %s", pub, why(errno));
                goto out;
            }
        }
    } else if (errno == 0) {
        /* Never replace an existing root silently: every sealed key and
         * every client's pin depends on it. */
        errmsg(err, "%s exists but holds no P-256 private key; restore it or remove the state directory", priv);
        goto out;
    } else if (errno != ENOENT) {
        errmsg(err, "cannot read %s: %s", priv, why(errno));
        goto out;
    } else {
        key = p256_generate();
        if (!key) {
            errmsg(err, "cannot generate the simulated platform key");
            goto out;
        }
        if (write_key(key, priv, 1) < 0 || write_key(key, pub, 0) < 0) {
            errmsg(err, "cannot write the simulated platform key to %s: %s", state_dir, why(errno));
            unlink(priv);
            goto out;
        }
    }
    *key_path = priv;
    priv = NULL;
    rc = 0;
out:
    EVP_PKEY_free(key);
    EVP_PKEY_free(pkey);
    free(priv);
    free(pub);
    return rc;
}
