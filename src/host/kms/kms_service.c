/* kms_service.c - launching, initialising and restarting the KMS enclave;
 * see kms.h. */
#include "host/kms/kms.h"
#include "common/errmsg.h"

#include "common/b64url.h"
#include "common/evidence.h"
#include "common/hpke.h"
#include "common/ipc.h"
#include "host/kms/kms_peer.h"
#include "host/kms/sim_platform.h"
#include "host/scheduler/launcher.h"
#include "host/util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#define SEALED_MAX (1u << 20)

/* mu guards enc, next_id and attestation; the rest is set by
 * kms_service_start and read-only after it. */
struct kms_service {
    pthread_mutex_t mu;
    char *kms_path, *state_dir, *platform_key, *platform_pem_text, *peer;
    json_t *workers;      /* {"engine": measurement hex}, informational (§5.1) */
    launched_enclave enc; /* pid -1 when not running */
    kms_shared_store shared; /* get NULL: none; set at start */
    uint64_t next_id;
    json_t *attestation;  /* of the running KMS */
};

static void stop_enclave(kms_service *k) {
    if (k->enc.pid > 0) {
        launcher_kill(k->enc.pid);
        launcher_reap(k->enc.pid);
    }
    if (k->enc.fd >= 0) close(k->enc.fd);
    k->enc.pid = -1;
    k->enc.fd = -1;
    json_decref(k->attestation);
    k->attestation = NULL;
}

/* Sends one request and reads its reply; the KMS answers in order. A reply
 * whose status is not KMS_OK becomes -1 with the KMS's own error text and
 * *status; a broken channel is -1 with KMS_ERR_INTERNAL and the KMS stopped
 * (the next request starts a new one). */
static int call(kms_service *k, ipc_writer *w, ipc_msg *reply, kms_status *status, char **err) {
    *status = KMS_ERR_INTERNAL;
    if (ipc_writer_finish(w) != IPC_OK) return errmsg(err, "KMS request too large");
    ipc_status st = ipc_send(k->enc.fd, w);
    if (st == IPC_OK) st = ipc_recv(k->enc.fd, reply);
    if (st != IPC_OK) {
        stop_enclave(k);
        return errmsg(err, "key service channel: %s", ipc_status_str(st));
    }
    uint64_t code = 0;
    if (reply->type != IPC_KMS_REPLY || reply->id != k->next_id || ipc_get_u64(reply, KREP_STATUS, &code) < 0 ||
        reply->nfields < KREP_FIRST) {
        ipc_msg_free(reply);
        stop_enclave(k);
        return errmsg(err, "key service sent a malformed reply");
    }
    if (code != KMS_OK) {
        char *text = ipc_get_str(reply, KREP_ERROR);
        errmsg(err, "%s", text && *text ? text : "the key service refused the request");
        free(text);
        ipc_msg_free(reply);
        *status = code <= KMS_ERR_STALE ? (kms_status)code : KMS_ERR_INTERNAL;
        return -1;
    }
    *status = KMS_OK;
    return 0;
}

/* A dead KMS is noticed from its channel (a hang-up) before a request is
 * sent; kill(pid, 0) would race with the reuse of the pid. */
static void reap_if_dead(kms_service *k) {
    if (k->enc.pid > 0) {
        char b;
        if (recv(k->enc.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0) stop_enclave(k);
    }
}

static json_t *attestation_doc(kms_service *k, const ipc_msg *m) {
    const ipc_field *ev = &m->fields[KINITR_EVIDENCE], *hpk = &m->fields[KINITR_HPKE_PK],
                    *meas = &m->fields[KINITR_MEASUREMENT], *jwk = &m->fields[KINITR_SIGNING_JWK];
    if (hpk->len != HPKE_NPK || meas->len != EVIDENCE_MEASUREMENT_LEN) return NULL;
    json_t *jwk_json = json_loadb((const char *)jwk->ptr, jwk->len, 0, NULL);
    char mhex[2 * EVIDENCE_MEASUREMENT_LEN + 1], pk[64];
    evidence_hex(meas->ptr, meas->len, mhex);
    b64url_encode(hpk->ptr, hpk->len, pk);
    json_t *doc = json_pack("{s:s, s:s%, s:s, s:{s:o, s:{s:i, s:s}}, s:s, s:O}",
                            "tee", "sim",
                            "evidence", (const char *)ev->ptr, (size_t)ev->len,
                            "measurement", mhex,
                            "kms", "signing_key", jwk_json ? jwk_json : json_null(),
                            "hpke_key", "kem_id", (int)HPKE_KEM_X25519_SHA256, "public_key", pk,
                            "platform_key", k->platform_pem_text,
                            "workers", k->workers);
    return doc;
}

static int store_state(kms_service *k, const ipc_field *state, char **err);

/* A KMS started without keys joins the peer's (docs/protocol.md §5.6):
 * its hello goes to the peer, the peer's answer back to it, and its reply
 * is an init reply (into *m) followed by the adopted state, which is
 * stored here; the caller stores the keys. The host sees only evidence,
 * public keys and ciphertext. 0, or -1 with *err. */
static int join_peer(kms_service *k, ipc_msg *m, char **err) {
    ipc_writer w = {0};
    ipc_msg hello;
    kms_status status;
    ipc_writer_begin(&w, IPC_KMS_JOIN, ++k->next_id);
    int rc = call(k, &w, &hello, &status, err);
    ipc_writer_free(&w);
    if (rc < 0) return -1;
    char *key = NULL;
    json_t *req = NULL, *answer = NULL;
    if (hello.nfields == KJOINR_NFIELDS && hello.fields[KJOINR_KEY].len == HPKE_NPK &&
        (key = b64url_encode_alloc(hello.fields[KJOINR_KEY].ptr, HPKE_NPK)))
        req = json_pack("{s:s%, s:s}", "evidence", (const char *)hello.fields[KJOINR_EVIDENCE].ptr,
                        (size_t)hello.fields[KJOINR_EVIDENCE].len, "transfer_key", key);
    ipc_msg_free(&hello);
    free(key);
    if (!req) return errmsg(err, "key service sent a malformed join reply");
    answer = kms_peer_exchange(k->peer, req, err);
    json_decref(req);
    if (!answer) return -1;
    const char *ev = json_string_value(json_object_get(answer, "evidence"));
    const char *wb = json_string_value(json_object_get(answer, "wrapped"));
    size_t wrapped_len = 0;
    uint8_t *wrapped = wb ? b64url_decode_alloc(wb, strlen(wb), &wrapped_len) : NULL;
    if (!ev || !wrapped) {
        json_decref(answer);
        free(wrapped);
        return errmsg(err, "the key service peer %s sent a malformed transfer answer", k->peer);
    }
    ipc_writer_begin(&w, IPC_KMS_ADOPT, ++k->next_id);
    ipc_put_bytes(&w, ev, strlen(ev));
    ipc_put_bytes(&w, wrapped, wrapped_len);
    json_decref(answer);
    free(wrapped);
    rc = call(k, &w, m, &status, err);
    ipc_writer_free(&w);
    if (rc < 0) return -1;
    if (m->nfields != KADOPTR_NFIELDS) {
        ipc_msg_free(m);
        return errmsg(err, "key service sent a malformed adopt reply");
    }
    return 0;
}

/* Starts the KMS if it is not running and hands it its sealed keys. */
static int ensure_running(kms_service *k, char **err) {
    if (k->enc.pid > 0) return 0;
    const char *args[] = {"--tee", "sim", "--platform-key", k->platform_key, NULL};
    if (launcher_start_args(k->kms_path, 1, args, LAUNCHER_HELLO_TIMEOUT_MS, &k->enc, err) < 0)
        return -1; /* k->enc is left at pid -1, fd -1 */
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", k->state_dir, KMS_SEALED_FILE);
    char state_path[4096];
    snprintf(state_path, sizeof state_path, "%s/%s", k->state_dir, KMS_STATE_FILE);
    size_t sealed_len = 0, state_len = 0;
    uint8_t *sealed = file_read(path, SEALED_MAX, &sealed_len), *state = NULL;
    if (!sealed && errno != ENOENT) {
        stop_enclave(k);
        return errmsg(err, "cannot read %s: %s", path, strerror(errno));
    }
    if (!(state = file_read(state_path, KMS_STATE_MAX, &state_len)) && errno != ENOENT) {
        free(sealed);
        stop_enclave(k);
        return errmsg(err, "cannot read %s: %s", state_path, strerror(errno));
    }
    ipc_msg m;
    int rc;
    if (!sealed && k->peer) {
        free(state); /* a node without keys has no state of its own either */
        rc = join_peer(k, &m, err);
        if (rc == 0 && store_state(k, &m.fields[KADOPTR_STATE], err) < 0) {
            ipc_msg_free(&m);
            rc = -1;
        }
    } else {
        ipc_writer w = {0};
        ipc_writer_begin(&w, IPC_KMS_INIT, ++k->next_id);
        ipc_put_bytes(&w, sealed, sealed ? sealed_len : 0);
        ipc_put_bytes(&w, state, state ? state_len : 0);
        free(state);
        kms_status status;
        rc = call(k, &w, &m, &status, err);
        ipc_writer_free(&w);
    }
    if (rc < 0) {
        free(sealed);
        stop_enclave(k);
        return -1;
    }
    const ipc_field *blob = m.nfields >= KINITR_NFIELDS ? &m.fields[KINITR_SEALED] : NULL;
    if (!blob || !(k->attestation = attestation_doc(k, &m))) {
        rc = errmsg(err, "key service sent a malformed init reply");
    } else if (!sealed || blob->len != sealed_len || memcmp(blob->ptr, sealed, sealed_len) != 0) {
        /* New keys: store them before anyone can depend on them. */
        if (file_write_atomic(path, blob->ptr, blob->len, 0600) < 0)
            rc = errmsg(err, "cannot store the sealed KMS keys in %s: %s", path, strerror(errno));
    }
    ipc_msg_free(&m);
    free(sealed);
    if (rc < 0) stop_enclave(k);
    return rc;
}

/* `path --measurement` into hex[65]: what the binary reports for itself
 * (the sim TEE's measurement; docs/protocol.md §5.2). 0, or -1 with *err. */
static int measure_binary(const char *path, char hex[2 * EVIDENCE_MEASUREMENT_LEN + 1], char **err) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) return errmsg(err, "pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
    char *const argv[] = {(char *)path, "--measurement", NULL}, *const envp[] = {NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, path, &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        return errmsg(err, "cannot run %s --measurement: %s", path, strerror(rc));
    }
    /* 64 hex digits and a newline; one byte more to notice a longer answer. */
    enum { LINE = 2 * EVIDENCE_MEASUREMENT_LEN + 1 };
    char buf[LINE + 1];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof buf && ((n = read(p[0], buf + got, sizeof buf - got)) > 0 || (n < 0 && errno == EINTR)))
        if (n > 0) got += (size_t)n;
    close(p[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    uint8_t m[EVIDENCE_MEASUREMENT_LEN];
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got != LINE || buf[LINE - 1] != '\n')
        return errmsg(err, "%s --measurement failed", path);
    buf[LINE - 1] = 0;
    if (evidence_unhex(buf, m, sizeof m) < 0) return errmsg(err, "%s --measurement printed no measurement", path);
    memcpy(hex, buf, LINE);
    return 0;
}

/* {"engine": hex} of the worker binaries that exist. */
static json_t *worker_measurements(const kms_config *cfg, char **err) {
    json_t *w = json_object();
    for (size_t i = 0; w && i < cfg->nworkers && i < KMS_MAX_WORKER_BINARIES; i++) {
        char hex[2 * EVIDENCE_MEASUREMENT_LEN + 1];
        if (!cfg->workers[i].path) continue;
        if (measure_binary(cfg->workers[i].path, hex, err) < 0 ||
            json_object_set_new(w, cfg->workers[i].engine, json_string(hex)) < 0) {
            json_decref(w);
            return NULL;
        }
    }
    return w;
}

kms_service *kms_service_start(const kms_config *cfg, char **err) {
    *err = NULL;
    kms_service *k = calloc(1, sizeof *k);
    if (!k) {
        errmsg(err, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&k->mu, NULL);
    k->enc.pid = -1;
    k->enc.fd = -1;
    k->kms_path = strdup(cfg->kms_path);
    k->state_dir = strdup(cfg->state_dir);
    k->platform_key = strdup(cfg->platform_key);
    if (cfg->peer && !(k->peer = strdup(cfg->peer))) goto fail;
    if (cfg->shared) k->shared = *cfg->shared;
    char pem_path[4096];
    size_t pem_len = 0;
    if (!k->kms_path || !k->state_dir || !k->platform_key) goto fail;
    if (!(k->workers = worker_measurements(cfg, err))) goto fail;
    snprintf(pem_path, sizeof pem_path, "%s/%s", cfg->state_dir, SIM_PLATFORM_PEM);
    if (!(k->platform_pem_text = (char *)file_read(pem_path, 1 << 16, &pem_len))) {
        errmsg(err, "cannot read %s: %s", pem_path, strerror(errno));
        goto fail;
    }
    if (ensure_running(k, err) < 0) goto fail;
    return k;
fail:
    if (!*err) errmsg(err, "out of memory");
    kms_service_stop(k);
    return NULL;
}

void kms_service_stop(kms_service *k) {
    if (!k) return;
    if (k->enc.pid > 0) {
        ipc_writer w = {0};
        ipc_writer_begin(&w, IPC_SHUTDOWN, ++k->next_id);
        if (ipc_writer_finish(&w) == IPC_OK) (void)ipc_send(k->enc.fd, &w);
        ipc_writer_free(&w);
        close(k->enc.fd);
        k->enc.fd = -1;
        launcher_reap(k->enc.pid); /* it exits on SHUTDOWN or EOF */
        k->enc.pid = -1;
    }
    stop_enclave(k);
    pthread_mutex_destroy(&k->mu);
    free(k->kms_path);
    json_decref(k->workers);
    free(k->state_dir);
    free(k->platform_key);
    free(k->platform_pem_text);
    free(k->peer);
    free(k);
}

json_t *kms_service_attestation(kms_service *k, char **err) {
    *err = NULL;
    pthread_mutex_lock(&k->mu);
    json_t *doc = NULL;
    reap_if_dead(k);
    if (ensure_running(k, err) == 0) doc = json_incref(k->attestation);
    pthread_mutex_unlock(&k->mu);
    return doc;
}

void kms_deployed_free(kms_deployed *d) {
    free(d->certificate);
    free(d->record);
    free(d->ohttp_keys);
    memset(d, 0, sizeof *d);
}

/* One request's arguments, each sent as a byte field. */
typedef struct {
    const void *ptr;
    size_t len;
} kms_arg;

/* Sends one request to the KMS, starting it first if it is not running;
 * the caller holds the service's lock. 0 with *reply to read and free, or
 * -1 as call(). */
static int request_locked(kms_service *k, ipc_type type, const kms_arg *args, size_t nargs, ipc_msg *reply,
                          kms_status *status, char **err) {
    *status = KMS_ERR_INTERNAL;
    int rc = -1;
    reap_if_dead(k);
    if (ensure_running(k, err) == 0) {
        ipc_writer w = {0};
        ipc_writer_begin(&w, type, ++k->next_id);
        for (size_t i = 0; i < nargs; i++) ipc_put_bytes(&w, args[i].ptr, args[i].len);
        rc = call(k, &w, reply, status, err);
        ipc_writer_free(&w);
    }
    return rc;
}

/* A deploy or release with the state shared through the store: read it,
 * hand it to the KMS (IPC_KMS_SYNC), send the request, store the reply's
 * local state (field state_idx), then compare-and-swap its shared state
 * (shared_idx) over the generation read. Another node's write in between
 * makes the round start again from the newer state (the KMS redoes the
 * request on it), so no node's deploy version or lease is lost. Lock held;
 * 0 with *reply, or -1 as request_locked. */
static int request_shared(kms_service *k, ipc_type type, const kms_arg *args, size_t nargs, size_t nfields,
                          size_t state_idx, size_t shared_idx, ipc_msg *reply, kms_status *status, char **err) {
    for (int round = 0; round < KMS_SHARED_ROUNDS; round++) {
        int64_t generation = 0;
        uint8_t *blob = NULL;
        size_t blob_len = 0;
        ipc_msg m;
        if (k->shared.get && k->shared.get(k->shared.ud, &generation, &blob, &blob_len, err) < 0) {
            *status = KMS_ERR_INTERNAL;
            return -1;
        }
        int rc = 0;
        if (blob) {
            const kms_arg sync[] = {{blob, blob_len}};
            rc = request_locked(k, IPC_KMS_SYNC, sync, 1, &m, status, err);
            free(blob);
            if (rc == 0) ipc_msg_free(&m);
            /* A shared state the KMS refuses (altered, rolled back) is the
             * host's fault, not the tenant's: the key service is down. */
            if (rc < 0) *status = KMS_ERR_INTERNAL;
        }
        if (rc == 0) rc = request_locked(k, type, args, nargs, reply, status, err);
        if (rc < 0) return -1;
        if (reply->nfields != nfields) {
            ipc_msg_free(reply);
            *status = KMS_ERR_INTERNAL;
            return errmsg(err, "key service sent a malformed reply");
        }
        const ipc_field *shared = &reply->fields[shared_idx];
        int put = store_state(k, &reply->fields[state_idx], err) < 0 ? -1
                  : k->shared.put ? k->shared.put(k->shared.ud, generation, shared->ptr, shared->len, err) : 0;
        if (put == 0) return 0;
        ipc_msg_free(reply);
        if (put < 0) {
            /* The KMS's floor counts a generation the store may not hold:
             * the next request starts a KMS afresh (floor 0). */
            stop_enclave(k);
            *status = KMS_ERR_INTERNAL;
            return -1;
        }
    }
    *status = KMS_ERR_INTERNAL;
    return errmsg(err, "the key service's shared state kept changing under %d attempts", KMS_SHARED_ROUNDS);
}

/* Writes the KMS's new sealed state (a reply field) to STATE/kms-state.sealed;
 * lock held. 0, or -1 with *err. */
static int store_state(kms_service *k, const ipc_field *state, char **err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", k->state_dir, KMS_STATE_FILE);
    if (!state->len) return errmsg(err, "key service sent no state");
    if (file_write_atomic(path, state->ptr, state->len, 0600) < 0)
        return errmsg(err, "cannot store the key service's state in %s: %s", path, strerror(errno));
    return 0;
}

int kms_service_deploy(kms_service *k, const char *ns, const char *name, const uint8_t *sealed,
                       size_t sealed_len, kms_deployed *out, kms_status *status, char **err) {
    *err = NULL;
    memset(out, 0, sizeof *out);
    const kms_arg args[] = {{ns, strlen(ns)}, {name, strlen(name)}, {sealed, sealed_len}};
    ipc_msg m;
    /* Under the lock until the new state is on disk, so states are
     * written in the order the KMS made them. */
    pthread_mutex_lock(&k->mu);
    /* Not stored (the local or the shared state): the action is not stored
     * either. The KMS may already count the version, so the tenant deploys
     * again with a higher one. */
    if (request_shared(k, IPC_KMS_DEPLOY, args, 3, KDEPR_NFIELDS, KDEPR_STATE, KDEPR_SHARED, &m, status, err) < 0) {
        pthread_mutex_unlock(&k->mu);
        return -1;
    }
    int rc = 0;
    if (!(out->certificate = ipc_get_str(&m, KDEPR_CERT)) || !(out->record = (uint8_t *)ipc_get_str(&m, KDEPR_RECORD)) ||
        !(out->ohttp_keys = (uint8_t *)ipc_get_str(&m, KDEPR_OHTTP_KEYS))) {
        kms_deployed_free(out);
        *status = KMS_ERR_INTERNAL;
        rc = errmsg(err, "key service sent a malformed deploy reply");
    } else {
        out->record_len = m.fields[KDEPR_RECORD].len;
        out->ohttp_keys_len = m.fields[KDEPR_OHTTP_KEYS].len;
    }
    pthread_mutex_unlock(&k->mu);
    ipc_msg_free(&m);
    return rc;
}

int kms_service_release(kms_service *k, const uint8_t *record, size_t record_len, const char *worker,
                        size_t worker_len, char **bundle, size_t *bundle_len, kms_status *status, char **err) {
    *err = NULL;
    *bundle = NULL;
    const kms_arg args[] = {{record, record_len}, {worker, worker_len}};
    ipc_msg m;
    /* As for deploys: the state with the release's replay lease is on disk
     * before the worker gets the bundle. */
    pthread_mutex_lock(&k->mu);
    if (request_shared(k, IPC_KMS_RELEASE, args, 2, KRELR_NFIELDS, KRELR_STATE, KRELR_SHARED, &m, status, err) < 0) {
        pthread_mutex_unlock(&k->mu);
        return -1;
    }
    int rc = 0;
    if (!(*bundle = ipc_get_str(&m, KRELR_BUNDLE))) {
        *status = KMS_ERR_INTERNAL;
        rc = errmsg(err, "key service sent a malformed release reply");
    } else {
        *bundle_len = m.fields[KRELR_BUNDLE].len;
    }
    pthread_mutex_unlock(&k->mu);
    ipc_msg_free(&m);
    return rc;
}

pid_t kms_service_pid(kms_service *k) {
    pthread_mutex_lock(&k->mu);
    pid_t pid = k->enc.pid > 0 ? k->enc.pid : 0;
    pthread_mutex_unlock(&k->mu);
    return pid;
}

int kms_service_give(kms_service *k, const char *hello_ev, size_t hello_ev_len, const uint8_t *key, size_t key_len,
                     char **evidence, size_t *evidence_len, uint8_t **wrapped, size_t *wrapped_len,
                     kms_status *status, char **err) {
    *err = NULL;
    *evidence = NULL;
    *wrapped = NULL;
    const kms_arg args[] = {{hello_ev, hello_ev_len}, {key, key_len}};
    ipc_msg m;
    pthread_mutex_lock(&k->mu);
    int rc = request_locked(k, IPC_KMS_GIVE, args, 2, &m, status, err);
    pthread_mutex_unlock(&k->mu);
    if (rc < 0) return -1;
    if (m.nfields != KGIVER_NFIELDS || !(*evidence = ipc_get_str(&m, KGIVER_EVIDENCE)) ||
        !(*wrapped = (uint8_t *)ipc_get_str(&m, KGIVER_WRAPPED))) {
        free(*evidence);
        *evidence = NULL;
        *status = KMS_ERR_INTERNAL;
        rc = errmsg(err, "key service sent a malformed give reply");
    } else {
        *evidence_len = m.fields[KGIVER_EVIDENCE].len;
        *wrapped_len = m.fields[KGIVER_WRAPPED].len;
    }
    ipc_msg_free(&m);
    return rc;
}
