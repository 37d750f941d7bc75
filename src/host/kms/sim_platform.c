/* sim_platform.c - the per-installation simulated platform key; see
 * sim_platform.h. */
#include "host/kms/sim_platform.h"
#include "common/errmsg.h"

#include "common/p256.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    EVP_PKEY *key = NULL, *pkey = NULL;
    if (access(priv, F_OK) == 0) {
        key = p256_read_private_pem(priv);
        if (!key) {
            /* Never replace an existing root silently: every sealed key and
             * every client's pin depends on it. */
            errmsg(err, "%s exists but holds no P-256 private key; restore it or remove the state directory", priv);
            goto out;
        }
        pkey = p256_read_public_pem(pub);
        if (!pkey || EVP_PKEY_eq(key, pkey) != 1) {
            /* The public half can always be rewritten from the private one. */
            if (p256_write_public_pem(key, pub) < 0) {
                errmsg(err, "cannot write %s: %s", pub, strerror(errno));
                goto out;
            }
        }
    } else {
        key = p256_generate();
        if (!key) {
            errmsg(err, "cannot generate the simulated platform key");
            goto out;
        }
        if (p256_write_private_pem(key, priv) < 0 || p256_write_public_pem(key, pub) < 0) {
            errmsg(err, "cannot write the simulated platform key to %s: %s", state_dir, strerror(errno));
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
