/* confidential.c - confidential invocations in a worker enclave; see
 * confidential.h and docs/protocol.md §6.4. */
#include "trusted/confidential.h"

#include "common/aead_box.h"
#include "common/b64url.h"
#include "common/bhttp.h"
#include "common/evidence.h"
#include "common/invoker_sig.h"
#include "common/json_depth.h"
#include "common/json_text.h"
#include "common/jws.h"
#include "common/labels.h"
#include "common/merkle.h"
#include "common/sha256.h"
#include "common/p256.h"
#include "trusted/tee.h"

#include "kms_expected.h" /* TFAAS_KMS_MEASUREMENT_HEX, written by scripts/kms-expected.sh */

#include <inttypes.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* The keys of one function, installed from a release. */
typedef struct conf_fn {
    struct conf_fn *next;
    char *fn_key;             /* "ns/name@version" */
    char *function;           /* "ns/name" */
    char *ns, *name;
    json_int_t version;       /* the deploy version the KMS certified */
    int64_t accept_from, accept_until; /* the replay lease: Dates this worker may accept */
    uint8_t code_key[32];
    char code_hash[65];
    hpke_keypair ohttp;
    EVP_PKEY *ohttp_key;      /* ohttp as a key object, made once (each call holds a reference) */
    uint8_t key_id;
    char *worker_cert;
    char *defaults;           /* the confidential default parameters, a JSON object text (secrets) */
    size_t defaults_len;
    invoker_keys invokers;    /* the policy's invoker keys (§6.7); n 0: no signature required */
    uint64_t last_used;
} conf_fn;

typedef struct {
    uint8_t enc[HPKE_NENC];
    int64_t expires;
} replay_slot;

/* Requests seen within the window, hashed by enc (uniformly random bytes). */
#define REPLAY_BUCKETS 16384u
typedef struct {
    replay_slot *v;
    size_t n, cap;
} replay_bucket;

struct conf_state {
    pthread_mutex_t mu;
    EVP_PKEY *signing;        /* receipts */
    jws_signer *signer;       /* the same, prepared once for the receipts' roots */
    hpke_keypair hpke;        /* releases are wrapped to it */
    char kid[P256_THUMBPRINT_LEN + 1];
    char *signing_jwk;        /* {"crv","kty","x","y"} */
    char *identity;           /* the NEED_KEYS answer */
    char measurement_hex[2 * EVIDENCE_MEASUREMENT_LEN + 1];
    conf_fn *fns;
    size_t nfns;
    uint64_t tick;
    replay_bucket *replay;    /* REPLAY_BUCKETS */
    size_t nreplay;           /* entries held, expired ones included until purged */
};

static char *refusal(const char *msg, int status) {
    json_t *j = json_pack("{s:s, s:i}", "error", msg, "status", status);
    char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return t;
}

static void fn_free(conf_fn *f) {
    if (!f) return;
    free(f->fn_key);
    free(f->function);
    free(f->ns);
    free(f->name);
    free(f->worker_cert);
    if (f->defaults) OPENSSL_cleanse(f->defaults, f->defaults_len);
    free(f->defaults);
    OPENSSL_cleanse(f->code_key, sizeof f->code_key);
    hpke_keypair_wipe(&f->ohttp);
    EVP_PKEY_free(f->ohttp_key);
    free(f);
}

conf_state *conf_create(char **err) {
    *err = NULL;
    conf_state *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    pthread_mutex_init(&c->mu, NULL);
    c->replay = calloc(REPLAY_BUCKETS, sizeof *c->replay);
    c->signing = p256_generate();
    uint8_t rd[EVIDENCE_REPORT_DATA_LEN];
    char *ev = NULL, pk[64];
    size_t ev_len = 0;
    if (!c->replay || !c->signing || hpke_keypair_generate(&c->hpke) != HPKE_OK ||
        evidence_bind_keys(LABEL_WORKER_REPORT, c->signing, c->hpke.pk, rd) < 0 ||
        p256_thumbprint(c->signing, c->kid) < 0 || !(c->signing_jwk = p256_public_jwk(c->signing)) ||
        !(c->signer = jws_signer_new(c->signing)))
        goto fail;
    if (tee_quote(rd, &ev, &ev_len) < 0) goto fail;
    b64url_encode(c->hpke.pk, HPKE_NPK, pk);
    json_t *id = json_pack("{s:s, s:o, s:s}", "evidence", ev, "signing_key", json_loads(c->signing_jwk, 0, NULL),
                           "hpke_key", pk);
    free(ev);
    /* Hardware evidence: the certificate of the key that signed it, when the
     * platform gave it (tee.h), for the key service to check against AMD's roots. */
    if (id && tee_key_cert() && json_object_set_new(id, "key_cert", json_string(tee_key_cert())) < 0) {
        json_decref(id);
        id = NULL;
    }
    c->identity = id ? json_dumps(id, JSON_COMPACT) : NULL;
    json_decref(id);
    if (!c->identity) goto fail;
    evidence_hex(tee_measurement(), EVIDENCE_MEASUREMENT_LEN, c->measurement_hex);
    return c;
fail:
    *err = strdup("cannot make the worker's attested keys");
    conf_destroy(c);
    return NULL;
}

void conf_destroy(conf_state *c) {
    if (!c) return;
    for (conf_fn *f = c->fns, *n; f; f = n) {
        n = f->next;
        fn_free(f);
    }
    jws_signer_free(c->signer);
    EVP_PKEY_free(c->signing);
    hpke_keypair_wipe(&c->hpke);
    free(c->signing_jwk);
    free(c->identity);
    for (size_t i = 0; c->replay && i < REPLAY_BUCKETS; i++) free(c->replay[i].v);
    free(c->replay);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* ---- installing a release ----------------------------------------------- */

/* Is jwk (an object) our own signing key? */
static int is_own_key(const conf_state *c, const json_t *jwk) {
    json_t *own = json_loads(c->signing_jwk, 0, NULL);
    int same = own && json_equal(own, (json_t *)jwk);
    json_decref(own);
    return same;
}

/* Whether fn_key, "ns/name@version" or with the host's namespace id
 * "ns#id/name@version" (names hold no '#' or '/'), is a revision of ns/name. */
static int key_names(const char *fn_key, const char *ns, const char *name) {
    size_t nl = strlen(ns), ml = strlen(name);
    if (strncmp(fn_key, ns, nl) != 0) return 0;
    const char *p = fn_key + nl;
    if (*p == '#') p += strcspn(p, "/");
    return *p == '/' && strncmp(p + 1, name, ml) == 0 && p[1 + ml] == '@';
}

/* Verifies a release bundle (docs/protocol.md §6.4) for fn_key and returns
 * the function's keys, or NULL with *why. */
static conf_fn *open_release(conf_state *c, const char *fn_key, const ipc_field *keys, const char **why) {
    json_t *b = json_loadb((const char *)keys->ptr, keys->len, JSON_REJECT_DUPLICATES, NULL), *sec = NULL, *cl = NULL;
    EVP_PKEY *kms_key = NULL;
    uint8_t kms_pk[HPKE_NPK], *wrapped = NULL, *plain = NULL;
    size_t wrapped_len = 0, plain_len = 0;
    conf_fn *f = NULL;
    json_t *jwk = json_object_get(b, "kms_signing_key");
    const char *ev = json_string_value(json_object_get(b, "kms_evidence"));
    const char *kpk = json_string_value(json_object_get(b, "kms_hpke_key"));
    const char *cert = json_string_value(json_object_get(b, "worker_certificate"));
    const char *wr = json_string_value(json_object_get(b, "wrapped"));
    *why = "malformed key release";
    if (!ev || !kpk || !cert || !wr ||
        !(kms_key = p256_from_jwk(jwk)) ||
        b64url_decode(kpk, strlen(kpk), kms_pk, sizeof kms_pk) != HPKE_NPK ||
        !(wrapped = b64url_decode_alloc(wr, strlen(wr), &wrapped_len)) || wrapped_len < HPKE_NENC + HPKE_NT)
        goto out;
    /* 1. The KMS is genuine: this platform, and the tfaas-kms build this
     * worker was built with (its measurement is compiled in, never taken
     * from the host). */
    uint8_t rd[EVIDENCE_REPORT_DATA_LEN], kms_measurement[EVIDENCE_MEASUREMENT_LEN];
    if (evidence_unhex(TFAAS_KMS_MEASUREMENT_HEX, kms_measurement, sizeof kms_measurement) < 0 ||
        evidence_bind_keys(LABEL_KMS_REPORT, kms_key, kms_pk, rd) < 0 ||
        tee_verify(ev, strlen(ev), kms_measurement, rd, NULL) != EVIDENCE_OK) {
        *why = "the key release does not come from an attested key service";
        goto out;
    }
    /* 2. The KMS certified this worker's key for exactly these wrapped bytes. */
    jws_parts p;
    if (jws_open(cert, strlen(cert), JWS_TYP_WORKER_CERT, kms_key, &p) != JWS_OK) {
        *why = "the worker certificate is not signed by the key service";
        goto out;
    }
    cl = json_loadb((const char *)p.payload, p.payload_len, 0, NULL);
    jws_parts_free(&p);
    char dhex[65];
    evidence_sha256_hex(wrapped, wrapped_len, dhex);
    const char *rs = json_string_value(json_object_get(cl, "release_sha256"));
    if (!is_own_key(c, json_object_get(cl, "worker_key")) || !rs || strcmp(rs, dhex) != 0) {
        *why = "the worker certificate is for another enclave or another release";
        goto out;
    }
    /* 3. The keys, wrapped to this enclave only. */
    int opened = hpke_open_base(HPKE_AEAD_CHACHA20_POLY1305, &c->hpke, LABEL_RELEASE_INFO, wrapped, wrapped_len,
                                &plain, &plain_len) == HPKE_OK;
    if (!opened || !(sec = json_loadb((const char *)plain, plain_len, 0, NULL))) {
        *why = "the released keys do not open with this enclave's key";
        goto out;
    }
    const char *ns = json_string_value(json_object_get(sec, "namespace"));
    const char *name = json_string_value(json_object_get(sec, "name"));
    const char *ck = json_string_value(json_object_get(sec, "code_key"));
    const char *ch = json_string_value(json_object_get(sec, "code_hash"));
    const char *osk = json_string_value(json_object_get(sec, "ohttp_sk"));
    json_t *kid = json_object_get(sec, "key_id"), *ver = json_object_get(sec, "version");
    json_t *from = json_object_get(sec, "accept_from"), *until = json_object_get(sec, "accept_until");
    json_t *params = json_object_get(sec, "params"), *invokers = json_object_get(sec, "invokers");
    char function[1024];
    if (!ns || !name || !ck || !ch || strlen(ch) != 64 || strspn(ch, "0123456789abcdef") != 64 || !osk ||
        !json_is_integer(kid) || !json_is_integer(ver) ||
        !json_is_integer(from) || !json_is_integer(until) || json_integer_value(from) > json_integer_value(until) ||
        (params && !json_is_object(params)) || (invokers && !json_is_array(invokers)) ||
        json_array_size(invokers) > POLICY_MAX_INVOKERS || snprintf(function, sizeof function, "%s/%s", ns, name) >= (int)sizeof function) goto out;
    if (!key_names(fn_key, ns, name)) {
        *why = "the key release is for another function";
        goto out;
    }
    uint8_t sk[HPKE_NSK];
    f = calloc(1, sizeof *f);
    if (!f || b64url_decode(ck, strlen(ck), f->code_key, 32) != 32 ||
        b64url_decode(osk, strlen(osk), sk, sizeof sk) != HPKE_NSK ||
        hpke_keypair_from_private(&f->ohttp, sk) != HPKE_OK || !(f->ohttp_key = hpke_keypair_pkey(&f->ohttp)) ||
        !(f->fn_key = strdup(fn_key)) ||
        !(f->function = strdup(function)) || !(f->ns = strdup(ns)) || !(f->name = strdup(name)) ||
        !(f->worker_cert = strdup(cert)) ||
        !(f->defaults = json_dumps(params ? params : json_object(), JSON_COMPACT))) {
        OPENSSL_cleanse(sk, sizeof sk);
        fn_free(f);
        f = NULL;
        goto out;
    }
    OPENSSL_cleanse(sk, sizeof sk);
    f->defaults_len = strlen(f->defaults);
    size_t i;
    json_t *inv;
    json_array_foreach(invokers, i, inv) {
        EVP_PKEY *k = p256_from_jwk(inv);
        uint8_t point[P256_POINT_LEN];
        int ok = k && p256_public_point(k, point) == 0 && invoker_keys_add(&f->invokers, point) == 0;
        EVP_PKEY_free(k);
        if (!ok) {
            fn_free(f);
            f = NULL;
            goto out;
        }
    }
    strcpy(f->code_hash, ch);
    f->key_id = (uint8_t)json_integer_value(kid);
    f->version = json_integer_value(ver);
    f->accept_from = json_integer_value(from);
    f->accept_until = json_integer_value(until);
out:
    if (plain) OPENSSL_cleanse(plain, plain_len);
    free(plain);
    free(wrapped);
    json_decref(sec);
    json_decref(cl);
    json_decref(b);
    EVP_PKEY_free(kms_key);
    return f;
}

/* Lock held. */
static conf_fn *fn_find(conf_state *c, const char *fn_key) {
    for (conf_fn *f = c->fns; f; f = f->next)
        if (strcmp(f->fn_key, fn_key) == 0) {
            f->last_used = ++c->tick;
            return f;
        }
    return NULL;
}

/* Lock held. Replaces fn_key's entry; forgets the least recently used past the cap. */
static void fn_install(conf_state *c, conf_fn *f) {
    for (conf_fn **p = &c->fns; *p; p = &(*p)->next)
        if (strcmp((*p)->fn_key, f->fn_key) == 0) {
            conf_fn *old = *p;
            *p = old->next;
            fn_free(old);
            c->nfns--;
            break;
        }
    if (c->nfns >= CONF_MAX_FUNCTIONS) {
        conf_fn **lru = &c->fns;
        for (conf_fn **p = &c->fns; *p; p = &(*p)->next)
            if ((*p)->last_used < (*lru)->last_used) lru = p;
        conf_fn *old = *lru;
        *lru = old->next;
        fn_free(old);
        c->nfns--;
    }
    f->last_used = ++c->tick;
    f->next = c->fns;
    c->fns = f;
    c->nfns++;
}

/* ---- replay refusal ------------------------------------------------------ */

/* Lock held. Drops the expired entries of one bucket. */
static void replay_purge(conf_state *c, replay_bucket *b, int64_t now) {
    size_t k = 0;
    for (size_t i = 0; i < b->n; i++)
        if (b->v[i].expires > now) b->v[k++] = b->v[i];
    c->nreplay -= b->n - k;
    b->n = k;
}

/* Lock held. 1 when enc was seen and its entry is live (a replay), 0 when
 * it is new (and is now remembered until `expires`), -1 when the table is
 * full of live entries (or memory is short). */
static int replay_check(conf_state *c, const uint8_t enc[HPKE_NENC], int64_t now, int64_t expires) {
    uint64_t h;
    memcpy(&h, enc, sizeof h);
    replay_bucket *b = &c->replay[h % REPLAY_BUCKETS];
    replay_purge(c, b, now);
    for (size_t i = 0; i < b->n; i++)
        if (memcmp(b->v[i].enc, enc, HPKE_NENC) == 0) return 1;
    if (c->nreplay >= CONF_REPLAY_SLOTS)
        for (size_t i = 0; i < REPLAY_BUCKETS; i++) replay_purge(c, &c->replay[i], now);
    if (c->nreplay >= CONF_REPLAY_SLOTS) return -1;
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 4;
        replay_slot *v = realloc(b->v, cap * sizeof *v);
        if (!v) return -1;
        b->v = v;
        b->cap = cap;
    }
    memcpy(b->v[b->n].enc, enc, HPKE_NENC);
    b->v[b->n++].expires = expires;
    c->nreplay++;
    return 0;
}

/* The request's Date header (IMF-fixdate) as seconds, or -1. */
static int64_t request_date(const bhttp_message *m) {
    const bhttp_field *fl = bhttp_header(m, "date");
    char text[64];
    if (!fl || fl->value.len >= sizeof text) return -1;
    memcpy(text, fl->value.ptr, fl->value.len);
    text[fl->value.len] = 0;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end) return -1;
    return (int64_t)timegm(&tm);
}

/* ---- one invocation -------------------------------------------------------- */

void conf_call_free(conf_call *call) {
    if (call->code) OPENSSL_cleanse(call->code, call->code_len);
    free(call->code);
    if (call->params) OPENSSL_cleanse(call->params, call->params_len);
    free(call->params);
    free(call->ns);
    free(call->name);
    free(call->code_hash);
    free(call->worker_cert);
    if (call->defaults) OPENSSL_cleanse(call->defaults, strlen(call->defaults));
    free(call->defaults);
    ohttp_ctx_wipe(&call->ctx);
    hpke_keypair_wipe(&call->ohttp);
    EVP_PKEY_free(call->ohttp_key);
    memset(call, 0, sizeof *call);
}

conf_step conf_begin(conf_state *c, const char *fn_key, const ipc_field *code, const ipc_field *keys,
                     conf_call *call, char **reply) {
    memset(call, 0, sizeof *call);
    *reply = NULL;
    if (!c) {
        *reply = refusal("This enclave has no TEE and cannot run confidential functions.", 503);
        return CONF_REFUSED;
    }
    const char *why = NULL;
    conf_fn *fresh = keys->len ? open_release(c, fn_key, keys, &why) : NULL;
    if (keys->len && !fresh) {
        *reply = refusal(why, 403);
        return CONF_REFUSED;
    }
    pthread_mutex_lock(&c->mu);
    if (fresh) fn_install(c, fresh);
    conf_fn *f = fn_find(c, fn_key);
    if (!f) {
        pthread_mutex_unlock(&c->mu);
        *reply = strdup(c->identity);
        return CONF_NEED_KEYS;
    }
    /* Copy what the call needs, so the entry may be replaced meanwhile. */
    uint8_t code_key[32];
    memcpy(code_key, f->code_key, sizeof code_key);
    call->ohttp = f->ohttp;
    if (EVP_PKEY_up_ref(f->ohttp_key) == 1) call->ohttp_key = f->ohttp_key;
    call->key_id = f->key_id;
    call->ns = strdup(f->ns);
    call->name = strdup(f->name);
    call->version = f->version;
    call->accept_from = f->accept_from;
    call->accept_until = f->accept_until;
    call->fresh_keys = fresh != NULL;
    call->code_hash = strdup(f->code_hash);
    call->worker_cert = strdup(f->worker_cert);
    call->defaults = strdup(f->defaults);
    call->invokers = f->invokers;
    pthread_mutex_unlock(&c->mu);
    conf_step step = CONF_REFUSED;
    uint8_t *box = NULL;
    size_t box_len = 0;
    if (!call->ns || !call->name || !call->code_hash || !call->worker_cert || !call->defaults) {
        *reply = refusal(ENGINE_MSG_ENCLAVE_OOM, 503);
        goto out;
    }
    /* The code: base64url of its box under the code key; its hash must be
     * the one the tenant certified. */
    if (code->len) {
        char hex[65];
        box = b64url_decode_alloc((const char *)code->ptr, code->len, &box_len);
        if (!box || aead_box_open(HPKE_AEAD_CHACHA20_POLY1305, code_key, (const uint8_t *)LABEL_CODE_AAD,
                                  strlen(LABEL_CODE_AAD), box, box_len, (uint8_t **)&call->code,
                                  &call->code_len) != HPKE_OK) {
            *reply = refusal(CONF_MSG_CODE_TAMPERED, 500);
            goto out;
        }
        evidence_sha256_hex(call->code, call->code_len, hex);
        if (strcmp(hex, call->code_hash) != 0) {
            *reply = refusal(CONF_MSG_CODE_NOT_CERTIFIED, 500);
            goto out;
        }
    }
    step = CONF_READY;
out:
    OPENSSL_cleanse(code_key, sizeof code_key);
    free(box);
    return step;
}

conf_step conf_open(conf_state *c, conf_call *call, const ipc_field *request, char **reply) {
    *reply = NULL;
    conf_step step = CONF_REFUSED;
    uint8_t *req = NULL;
    size_t req_len = 0;
    /* The request: OHTTP, then Binary HTTP, then the replay checks. */
    if (request->len > OHTTP_MAX_MESSAGE) {
        *reply = refusal("The encapsulated request is too large.", 413);
        goto out;
    }
    sha256(request->ptr, request->len, call->request_sha256);
    ohttp_result orr = ohttp_request_decapsulate_key(&call->ctx, call->key_id, &call->ohttp, call->ohttp_key,
                                                     request->ptr, request->len, &req, &req_len);
    if (orr != OHTTP_OK) {
        char msg[128];
        snprintf(msg, sizeof msg, "The OHTTP request is refused: %s.", ohttp_result_name(orr));
        *reply = refusal(msg, 400);
        goto out;
    }
    bhttp_message bm;
    bhttp_result br = bhttp_request_decode(&bm, req, req_len);
    if (br != BHTTP_OK) {
        char msg[128];
        snprintf(msg, sizeof msg, "The inner request is not Binary HTTP: %s.", bhttp_result_name(br));
        *reply = refusal(msg, 400);
        goto out;
    }
    int64_t now = (int64_t)time(NULL), date = request_date(&bm);
    if (date < 0 || date < now - REPLAY_WINDOW_S || date > now + REPLAY_WINDOW_S) {
        *reply = refusal("The inner request needs a Date header within 60 seconds of the enclave's clock "
                         "(replay protection).", 400);
        goto out;
    }
    /* The replay lease (§6.6): Dates past it need a renewal from the KMS
     * (once: a lease just received that still does not reach the Date is a
     * client clock far ahead); Dates before it belong to an earlier worker,
     * whose memory of them this one does not have. Nothing is remembered
     * yet, so the resend after a renewal is not taken for a replay. */
    if (date > call->accept_until) {
        if (!call->fresh_keys) {
            *reply = strdup(c->identity);
            step = CONF_NEED_KEYS;
        } else {
            *reply = refusal("The inner request's Date is ahead of what this worker may accept even after a lease "
                             "renewal (replay protection); check the client's clock.", 400);
        }
        goto out;
    }
    if (date < call->accept_from) {
        char msg[200];
        snprintf(msg, sizeof msg, "Requests dated before %" PRId64 " (Unix time) belong to an earlier worker enclave "
                 "of this function (replay protection); try again in %" PRId64 " s.", call->accept_from,
                 call->accept_from - now);
        *reply = refusal(msg, 503);
        goto out;
    }
    pthread_mutex_lock(&c->mu);
    /* Remembered as long as its Date is acceptable: after that the Date
     * check refuses a replay on its own. */
    int seen = replay_check(c, call->ctx.enc, now, date + REPLAY_WINDOW_S + 1);
    pthread_mutex_unlock(&c->mu);
    if (seen != 0) {
        *reply = refusal(seen > 0 ? "The request is a replay of one already answered." :
                                    "Too many requests within the replay window; try again.", seen > 0 ? 400 : 503);
        goto out;
    }
    /* End-to-end authorization (§6.7): with invoker keys in the policy,
     * only a request one of them signed, for this function, this Date and
     * this content, runs; the host, which cannot sign, cannot invoke. */
    if (call->invokers.n) {
        const bhttp_field *sf = bhttp_header(&bm, INVOKER_SIG_FIELD), *df = bhttp_header(&bm, "date");
        char target[1024], date_text[64];
        snprintf(target, sizeof target, "%s/%s", call->ns, call->name);
        memcpy(date_text, df->value.ptr, df->value.len); /* request_date took it: under 64 bytes */
        date_text[df->value.len] = 0;
        invoker_sig_result sr = invoker_sig_verify(sf ? (const char *)sf->value.ptr : NULL, sf ? sf->value.len : 0,
                                                   &call->invokers,
                                                   target, date_text, bm.content.ptr, bm.content.len);
        if (sr != INVOKER_SIG_OK) {
            char msg[256];
            snprintf(msg, sizeof msg, "The function accepts only requests signed by one of its invoker keys "
                     "(tfaas-signature): %s.", invoker_sig_result_name(sr));
            *reply = refusal(msg, sr == INVOKER_SIG_MISSING ? 401 : sr == INVOKER_SIG_ERROR ? 503 : 403);
            goto out;
        }
    }
    /* The same nesting limit the gateway applies to ordinary invokes: the
     * engine's decoder takes no more. */
    if (json_depth((const char *)bm.content.ptr, bm.content.len, JSON_MAX_DEPTH) > JSON_MAX_DEPTH) {
        *reply = refusal("The inner request's body is nested too deeply: at most " JSON_MAX_DEPTH_TEXT
                         " levels of arrays and objects.", 400);
        goto out;
    }
    json_t *body = bm.content.len ? json_loadb((const char *)bm.content.ptr, bm.content.len, 0, NULL) : json_object();
    if (!json_is_object(body)) {
        json_decref(body);
        *reply = refusal("The inner request's body must be a JSON object.", 400);
        goto out;
    }
    /* The confidential default parameters, merged here inside the enclave
     * only; the request's own parameters override them, as OpenWhisk's
     * request parameters override an action's defaults. */
    json_t *merged = json_loads(call->defaults, 0, NULL);
    if (!json_is_object(merged) || json_object_update(merged, body) < 0) {
        json_decref(merged);
        merged = NULL;
    }
    json_decref(body);
    call->params = merged ? json_dumps(merged, JSON_COMPACT) : NULL;
    json_decref(merged); /* holds secret copies; jansson frees them unwiped, a known limit */
    if (!call->params) {
        *reply = refusal(ENGINE_MSG_ENCLAVE_OOM, 503);
        goto out;
    }
    call->params_len = strlen(call->params);
    step = CONF_READY;
out:
    if (req) OPENSSL_cleanse(req, req_len);
    free(req);
    return step;
}

static unsigned http_status(tfaas_status s) {
    switch (s) {
    case TFAAS_STATUS_SUCCESS: return 200;
    case TFAAS_STATUS_APPLICATION_ERR: return 400;
    case TFAAS_STATUS_DEVELOPER_ERR: return 502;
    default: return 500;
    }
}

/* Whether s is printable ASCII other than '"' and '\\' (what an activation
 * id, which the host chooses, must be to go into a receipt as is). */
static int plain_ascii(const char *s) {
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\') return 0;
    return 1;
}

/* The claims (docs/protocol.md §6.5) of one call whose inner response has
 * status `status` and content `body`: malloc'd JSON text, its length in
 * *len, or NULL. Written as text, members in sorted order: they are made for
 * every request, and a JSON tree built and serialised for them cost a tenth
 * of the receipt. The namespace and name come from the KMS's release
 * (parsed JSON strings, so UTF-8) and are escaped; the other strings are
 * hex, base64url or checked by plain_ascii. The nonce keeps a requester who
 * sees this leaf's hash as a sibling in its own proof from confirming a
 * guess of these claims (a hello's result is easy to guess). */
static char *receipt_claims(conf_state *c, const conf_call *call, const engine_outcome *o, unsigned status,
                            const char *body, const char *activation_id, uint64_t cpu_us, size_t *len) {
    char req_hex[65], res_hex[65], nonce[32]; /* 22 characters for 16 bytes */
    uint8_t nonce_raw[CONF_NONCE_LEN];
    if (!plain_ascii(activation_id) || strlen(activation_id) > 256 || RAND_bytes(nonce_raw, sizeof nonce_raw) != 1)
        return NULL;
    b64url_encode(nonce_raw, sizeof nonce_raw, nonce);
    evidence_hex(call->request_sha256, 32, req_hex);
    evidence_sha256_hex((const uint8_t *)body, strlen(body), res_hex);
    size_t nl = strlen(call->ns), ml = strlen(call->name);
    size_t cap = 1024 + strlen(activation_id) + JSON_TEXT_ESCAPED_MAX(nl) + JSON_TEXT_ESCAPED_MAX(ml);
    char *ns = malloc(JSON_TEXT_ESCAPED_MAX(nl)), *name = malloc(JSON_TEXT_ESCAPED_MAX(ml)), *text = malloc(cap);
    int n = -1;
    if (ns && name && text) {
        json_text_escape(ns, call->ns, nl);
        json_text_escape(name, call->name, ml);
        n = snprintf(text, cap,
                     "{\"activation_id\":\"%s\",\"code_hash\":\"%s\",\"cpu_time_us\":%" PRIu64 ",\"iat\":%" PRId64
                     ",\"iss\":\"%s\",\"measurement\":\"%s\",\"name\":\"%s\",\"namespace\":\"%s\",\"nonce\":\"%s\""
                     ",\"peak_memory\":%" PRIu64 ",\"request_sha256\":\"%s\",\"result_sha256\":\"%s\",\"status\":%u"
                     ",\"version\":%" JSON_INTEGER_FORMAT "}",
                     activation_id, call->code_hash, cpu_us, (int64_t)time(NULL), c->kid, c->measurement_hex, name, ns,
                     nonce, (uint64_t)o->peak_memory, req_hex, res_hex, status, call->version);
    }
    free(ns);
    free(name);
    if (n <= 0 || (size_t)n >= cap) {
        free(text);
        return NULL;
    }
    *len = (size_t)n;
    return text;
}

/* The signed root of a batch of `size` leaves: a compact JWS, or NULL. */
static char *sign_root(conf_state *c, const uint8_t root[MERKLE_HASH_LEN], size_t size) {
    char root_b64[48], text[512], *jws = NULL; /* 43 characters for 32 bytes */
    b64url_encode(root, MERKLE_HASH_LEN, root_b64);
    int n = snprintf(text, sizeof text,
                     "{\"iat\":%" PRId64 ",\"iss\":\"%s\",\"measurement\":\"%s\",\"root\":\"%s\",\"size\":%zu}",
                     (int64_t)time(NULL), c->kid, c->measurement_hex, root_b64, size);
    if (n <= 0 || (size_t)n >= sizeof text ||
        jws_signer_sign(c->signer, JWS_TYP_RECEIPT_ROOT, c->kid, (const uint8_t *)text, (size_t)n, &jws) != JWS_OK)
        return NULL;
    return jws;
}

/* The tfaas-receipt field of leaf `index`: {"claims","index","proof","root"}
 * with the claims' exact bytes and the proof's hashes in base64url. */
static char *receipt_field(const conf_pending *p, size_t index, const char *root_jws,
                           const uint8_t (*path)[MERKLE_HASH_LEN], size_t path_len) {
    size_t cap = 64 + b64url_encoded_len(p->claims_len) + strlen(root_jws) +
                 path_len * (b64url_encoded_len(MERKLE_HASH_LEN) + 3);
    char *t = malloc(cap);
    if (!t) return NULL;
    char *w = t + sprintf(t, "{\"claims\":\"");
    w += b64url_encode((const uint8_t *)p->claims, p->claims_len, w);
    w += sprintf(w, "\",\"index\":%zu,\"proof\":[", index);
    for (size_t i = 0; i < path_len; i++) {
        w += sprintf(w, "%s\"", i ? "," : "");
        w += b64url_encode(path[i], MERKLE_HASH_LEN, w);
        *w++ = '"';
    }
    sprintf(w, "],\"root\":\"%s\"}", root_jws);
    return t;
}

/* Seals one call's outcome with its receipt: 0 or -1 (see conf_batch_flush). */
static int seal(conf_call *call, const engine_outcome *o, const char *receipt, uint8_t **sealed, size_t *sealed_len,
                char **logs) {
    *sealed = NULL;
    *sealed_len = 0;
    *logs = NULL;
    const char *body = o->result ? o->result : "{}";
    uint8_t *bin = NULL, *enc = NULL, *logs_box = NULL, logs_key[32];
    size_t bin_len = 0, enc_len = 0, logs_len = 0;
    int rc = -1;
    /* The receipt and the worker certificate travel inside the encrypted
     * response: the status and resource figures are the requester's. */
    bhttp_message resp;
    memset(&resp, 0, sizeof resp);
    resp.status = http_status(o->status);
    resp.nheaders = 3;
    resp.fields[0].name = bhttp_str("content-type");
    resp.fields[0].value = bhttp_str("application/json");
    resp.fields[1].name = bhttp_str(RECEIPT_FIELD);
    resp.fields[1].value = bhttp_str(receipt);
    resp.fields[2].name = bhttp_str(WORKER_CERT_FIELD);
    resp.fields[2].value = bhttp_str(call->worker_cert);
    resp.content = bhttp_str(body);
    if (bhttp_response_encode(&resp, &bin, &bin_len) != BHTTP_OK ||
        ohttp_response_encapsulate(&call->ctx, bin, bin_len, NULL, &enc, &enc_len) != OHTTP_OK)
        goto done;
    /* Logs: sealed under a key only the requester can derive from its
     * HPKE context (Export(LABEL_LOGS, 32)). */
    const char *lg = o->logs ? o->logs : "";
    if (*lg) {
        if (hpke_export(&call->ctx.hpke, (const uint8_t *)LABEL_LOGS, strlen(LABEL_LOGS), logs_key, 32) != HPKE_OK ||
            aead_box_seal(HPKE_AEAD_CHACHA20_POLY1305, logs_key, (const uint8_t *)LABEL_LOGS, strlen(LABEL_LOGS),
                          (const uint8_t *)lg, strlen(lg), &logs_box, &logs_len) != HPKE_OK ||
            !(*logs = b64url_encode_alloc(logs_box, logs_len)))
            goto done;
    } else if (!(*logs = strdup(""))) {
        goto done;
    }
    *sealed = enc;
    *sealed_len = enc_len;
    enc = NULL;
    rc = 0;
done:
    OPENSSL_cleanse(logs_key, sizeof logs_key);
    if (bin) OPENSSL_cleanse(bin, bin_len);
    free(bin);
    free(enc);
    free(logs_box);
    if (rc < 0) {
        free(*logs);
        *logs = NULL;
    }
    return rc;
}

int conf_batch_add(conf_state *c, conf_batch *b, uint64_t id, conf_call *call, engine_outcome *o,
                   const char *activation_id, uint64_t cpu_us) {
    if (b->n >= CONF_BATCH_MAX) return -1;
    conf_pending *p = &b->items[b->n];
    const char *body = o->result ? o->result : "{}";
    if (!(p->claims = receipt_claims(c, call, o, http_status(o->status), body, activation_id, cpu_us, &p->claims_len)))
        return -1;
    merkle_leaf((const uint8_t *)p->claims, p->claims_len, p->leaf);
    p->id = id;
    p->call = *call; /* taken: the caller's copies are left empty */
    memset(call, 0, sizeof *call);
    p->o = *o;
    memset(o, 0, sizeof *o);
    b->n++;
    return 0;
}

void conf_batch_flush(conf_state *c, conf_batch *b, conf_sent_fn sent, void *arg) {
    if (!b->n) return;
    uint8_t (*leaves)[MERKLE_HASH_LEN] = malloc(b->n * sizeof *leaves), root[MERKLE_HASH_LEN],
        path[MERKLE_MAX_PATH][MERKLE_HASH_LEN];
    char *root_jws = NULL;
    if (leaves) {
        for (size_t i = 0; i < b->n; i++) memcpy(leaves[i], b->items[i].leaf, MERKLE_HASH_LEN);
        if (merkle_root((const uint8_t (*)[MERKLE_HASH_LEN])leaves, b->n, root) == 0)
            root_jws = sign_root(c, root, b->n);
    }
    for (size_t i = 0; i < b->n; i++) {
        conf_pending *p = &b->items[i];
        uint8_t *sealed = NULL;
        size_t sealed_len = 0;
        char *logs = NULL, *receipt = NULL;
        int np = root_jws ? merkle_path((const uint8_t (*)[MERKLE_HASH_LEN])leaves, b->n, i, path) : -1;
        if (np >= 0 && (receipt = receipt_field(p, i, root_jws, (const uint8_t (*)[MERKLE_HASH_LEN])path, (size_t)np)))
            seal(&p->call, &p->o, receipt, &sealed, &sealed_len, &logs);
        sent(arg, p->id, sealed, sealed_len, logs);
        free(sealed);
        free(logs);
        free(receipt);
        free(p->claims);
        engine_outcome_free(&p->o);
        conf_call_free(&p->call);
        memset(p, 0, sizeof *p);
    }
    free(leaves);
    free(root_jws);
    b->n = 0;
}
