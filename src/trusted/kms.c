/* kms.c - the key service enclave role; see kms.h. */
#include "trusted/kms.h"

#include "common/evidence.h"
#include "common/hpke.h"
#include "common/ipc.h"
#include "common/labels.h"
#include "common/p256.h"
#include "trusted/tee.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYS_VERSION 1

typedef struct {
    EVP_PKEY *signing;   /* ES256 */
    hpke_keypair hpke;   /* X25519 */
    int ready;
    char *evidence;      /* quote over both public keys, made once per start */
    size_t evidence_len;
    char *signing_jwk;
} kms_state;

static void state_free(kms_state *s) {
    EVP_PKEY_free(s->signing);
    hpke_keypair_wipe(&s->hpke);
    free(s->evidence);
    free(s->signing_jwk);
    memset(s, 0, sizeof *s);
}

/* Sealed-blob plaintext: u8 version || u16le der_len || PKCS#8 DER of the
 * signing key || X25519 private key (32). */
static int keys_serialize(const kms_state *s, uint8_t **out, size_t *len) {
    size_t der_len = 0;
    uint8_t *der = p256_private_der(s->signing, &der_len);
    if (!der || der_len > 0xffff) {
        free(der);
        return -1;
    }
    size_t n = 3 + der_len + HPKE_NSK;
    uint8_t *buf = malloc(n);
    if (buf) {
        buf[0] = KEYS_VERSION;
        buf[1] = (uint8_t)der_len;
        buf[2] = (uint8_t)(der_len >> 8);
        memcpy(buf + 3, der, der_len);
        memcpy(buf + 3 + der_len, s->hpke.sk, HPKE_NSK);
        *out = buf;
        *len = n;
    }
    OPENSSL_cleanse(der, der_len);
    free(der);
    return buf ? 0 : -1;
}

static int keys_parse(kms_state *s, const uint8_t *p, size_t len) {
    if (len < 3 || p[0] != KEYS_VERSION) return -1;
    size_t der_len = (size_t)p[1] | (size_t)p[2] << 8;
    if (len != 3 + der_len + HPKE_NSK) return -1;
    s->signing = p256_from_private_der(p + 3, der_len);
    if (!s->signing) return -1;
    return hpke_keypair_from_private(&s->hpke, p + 3 + der_len) == HPKE_OK ? 0 : -1;
}

/* Evidence over both public keys and the JWK the host publishes. */
static int make_evidence(kms_state *s) {
    uint8_t data[P256_POINT_LEN + HPKE_NPK], rd[EVIDENCE_REPORT_DATA_LEN];
    if (p256_public_point(s->signing, data) < 0) return -1;
    memcpy(data + P256_POINT_LEN, s->hpke.pk, HPKE_NPK);
    evidence_bind(LABEL_KMS_REPORT, data, sizeof data, rd);
    if (tee_quote(rd, &s->evidence, &s->evidence_len) < 0) return -1;
    s->signing_jwk = p256_public_jwk(s->signing);
    return s->signing_jwk ? 0 : -1;
}

static void reply_begin(ipc_writer *w, uint64_t id, kms_status st, const char *error) {
    ipc_writer_begin(w, IPC_KMS_REPLY, id);
    ipc_put_u64(w, st);
    ipc_put_str(w, error);
}

/* IPC_KMS_INIT: unseal the keys the host kept, or make and seal new ones. */
static void handle_init(kms_state *s, const ipc_msg *m, ipc_writer *w) {
    if (s->ready) {
        reply_begin(w, m->id, KMS_ERR_STATE, "the key service is already initialised");
        return;
    }
    if (m->nfields != KINIT_NFIELDS) {
        reply_begin(w, m->id, KMS_ERR_REQUEST, "malformed init request");
        return;
    }
    const ipc_field *sealed = &m->fields[KINIT_SEALED];
    uint8_t *blob = NULL, *plain = NULL;
    size_t blob_len = 0, plain_len = 0;
    if (sealed->len) {
        tee_unseal_result ur = tee_unseal(LABEL_SEAL_KMS_KEYS, sealed->ptr, sealed->len, &plain, &plain_len);
        if (ur != TEE_UNSEAL_OK || keys_parse(s, plain, plain_len) < 0) {
            char msg[160];
            snprintf(msg, sizeof msg, "the stored KMS keys do not unseal in this enclave: %s",
                     ur != TEE_UNSEAL_OK ? tee_unseal_result_name(ur) : "bad key blob");
            state_free(s);
            if (plain) OPENSSL_cleanse(plain, plain_len);
            free(plain);
            reply_begin(w, m->id, ur == TEE_UNSEAL_NOMEM ? KMS_ERR_INTERNAL : KMS_ERR_UNSEAL, msg);
            return;
        }
        OPENSSL_cleanse(plain, plain_len);
        free(plain);
    } else {
        s->signing = p256_generate();
        if (!s->signing || hpke_keypair_generate(&s->hpke) != HPKE_OK || keys_serialize(s, &plain, &plain_len) < 0 ||
            tee_seal(LABEL_SEAL_KMS_KEYS, plain, plain_len, &blob, &blob_len) < 0) {
            if (plain) OPENSSL_cleanse(plain, plain_len);
            free(plain);
            state_free(s);
            reply_begin(w, m->id, KMS_ERR_INTERNAL, "cannot make the KMS keys");
            return;
        }
        OPENSSL_cleanse(plain, plain_len);
        free(plain);
    }
    if (make_evidence(s) < 0) {
        free(blob);
        state_free(s);
        reply_begin(w, m->id, KMS_ERR_INTERNAL, "cannot quote the KMS keys");
        return;
    }
    s->ready = 1;
    reply_begin(w, m->id, KMS_OK, NULL);
    if (blob) ipc_put_bytes(w, blob, blob_len);
    else ipc_put_bytes(w, sealed->ptr, sealed->len);
    ipc_put_bytes(w, s->evidence, s->evidence_len);
    ipc_put_str(w, s->signing_jwk);
    ipc_put_bytes(w, s->hpke.pk, HPKE_NPK);
    ipc_put_bytes(w, tee_measurement(), EVIDENCE_MEASUREMENT_LEN);
    free(blob);
}

static int send_hello(int fd) {
    ipc_writer w = {0};
    ipc_writer_begin(&w, IPC_HELLO, 0);
    ipc_put_u64(&w, IPC_VERSION);
    ipc_put_str(&w, "kms");
    ipc_put_u64(&w, 1);
    int rc = ipc_writer_finish(&w) == IPC_OK && ipc_send(fd, &w) == IPC_OK ? 0 : -1;
    ipc_writer_free(&w);
    return rc;
}

int kms_run(int fd) {
    if (send_hello(fd) < 0) {
        fprintf(stderr, "tfaas-enclave kms: cannot say hello\n");
        return 1;
    }
    kms_state s;
    memset(&s, 0, sizeof s);
    int status = 0;
    for (;;) {
        ipc_msg m;
        ipc_status st = ipc_recv(fd, &m);
        if (st == IPC_ERR_EOF) break;
        if (st != IPC_OK) {
            fprintf(stderr, "tfaas-enclave kms: channel: %s\n", ipc_status_str(st));
            status = 1;
            break;
        }
        if (m.type == IPC_SHUTDOWN) {
            ipc_msg_free(&m);
            break;
        }
        ipc_writer w = {0};
        if (m.type == IPC_KMS_INIT) {
            handle_init(&s, &m, &w);
        } else {
            fprintf(stderr, "tfaas-enclave kms: protocol violation: message type %u\n", m.type);
            ipc_msg_free(&m);
            status = 1;
            break;
        }
        ipc_msg_free(&m);
        int ok = ipc_writer_finish(&w) == IPC_OK && ipc_send(fd, &w) == IPC_OK;
        ipc_writer_free(&w);
        if (!ok) {
            fprintf(stderr, "tfaas-enclave kms: cannot answer the host\n");
            status = 1;
            break;
        }
    }
    state_free(&s);
    return status;
}
