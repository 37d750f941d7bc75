/* ipc.h - the host <-> enclave message codec (one codec for both sides).
 *
 * Messages travel over a socketpair as length-prefixed frames. Every length
 * is checked before it is used; a frame that does not parse is an error, never
 * a partial message. All integers are little-endian.
 *
 *   u32 frame_len           bytes that follow, IPC_HEADER_LEN..IPC_MAX_FRAME
 *   u8  version             IPC_VERSION
 *   u8  type                enum ipc_type
 *   u16 nfields             0..IPC_MAX_FIELDS
 *   u64 id                  request id chosen by the host, echoed in the reply
 *   nfields x { u32 len; u8 bytes[len] }
 *
 * A field is a byte string; integers are 8-byte little-endian fields. The
 * meaning of field i for each message type is the enums below.
 */
#ifndef TFAAS_COMMON_IPC_H
#define TFAAS_COMMON_IPC_H

#include <stddef.h>
#include <stdint.h>

#define IPC_VERSION     1
#define IPC_HEADER_LEN  12u            /* version, type, nfields, id */
#define IPC_MAX_FRAME   (64u << 20)    /* hard cap on one message, bytes */
#define IPC_MAX_FIELDS  32u

typedef enum {
    IPC_HELLO    = 1, /* enclave -> host once at start-up, id 0 */
    IPC_INVOKE   = 2, /* host -> enclave: run one activation */
    IPC_RESULT   = 3, /* enclave -> host: outcome of one IPC_INVOKE, same id */
    IPC_DROP     = 4, /* host -> enclave: forget a function and its heaps */
    IPC_SHUTDOWN = 5, /* host -> enclave: finish in-flight work and exit */
    IPC_CANCEL   = 6, /* host -> enclave: the INVOKE with this id is not to run if it
                       * still waits in its lane; answered by a RESULT with
                       * TFAAS_STATUS_NOT_RUN then, else by nothing (it runs as usual) */
    /* The KMS role (src/trusted/kms.c); each request is answered by one
     * IPC_KMS_REPLY with the same id. */
    IPC_KMS_INIT  = 16, /* host -> kms: the sealed key blob, or none on first start */
    IPC_KMS_REPLY = 17, /* kms -> host: status, error text, then per-request fields */
    IPC_KMS_DEPLOY = 18, /* host -> kms: a tenant's sealed deploy package for ns/name */
    IPC_KMS_RELEASE = 19, /* host -> kms: release a function's keys to a worker enclave */
    /* KMS-to-KMS key transfer (docs/protocol.md §5.6): the host relays the
     * bytes between a joining KMS and a running one and can read none. */
    IPC_KMS_JOIN = 20,  /* host -> joining kms: make the transfer hello */
    IPC_KMS_GIVE = 21,  /* host -> running kms: a peer's hello; answer with the keys wrapped to it */
    IPC_KMS_ADOPT = 22, /* host -> joining kms: the running KMS's answer; take its keys */
    IPC_KMS_SYNC = 23,  /* host -> kms: the state shared through the store, before a deploy or release */
    /* Egress (fetch): on a private socket the enclave passed over its egress
     * channel (--egress-fd), one request and one reply, then on success the
     * connected TCP socket (SCM_RIGHTS). src/trusted/fetch/egress_conn.c,
     * src/host/scheduler/egress.c. */
    IPC_EGRESS_CONNECT = 32, /* enclave -> host: connect to host:port */
    IPC_EGRESS_REPLY = 33,   /* host -> enclave: STATUS, ERROR */
} ipc_type;

/* IPC_EGRESS_CONNECT fields: the host name (or address literal), port,
 * https (u64 0/1), the activation's egress policies (JSON, as INV_EGRESS)
 * and the time left in milliseconds. */
enum { EGC_HOST, EGC_PORT, EGC_HTTPS, EGC_POLICY, EGC_TIMEOUT_MS, EGC_NFIELDS };
/* IPC_EGRESS_REPLY: STATUS (u64 egress_reply_status) and ERROR (text, the
 * function's error message, empty on success). */
enum { EGR_STATUS, EGR_ERROR, EGR_NFIELDS };
typedef enum { EGRESS_REPLY_OK = 0, EGRESS_REPLY_REFUSED = 1, EGRESS_REPLY_FAILED = 2 } egress_reply_status;

/* IPC_KMS_INIT fields: SEALED is empty on the first start of an
 * installation; STATE (the sealed deploy versions and replay leases the
 * last deploy or release returned) is empty until the first confidential
 * deploy. */
enum { KINIT_SEALED, KINIT_STATE, KINIT_NFIELDS };

/* IPC_KMS_REPLY: STATUS (u64 kms_status) and ERROR (text, empty on success)
 * come first; the fields after them depend on the request. */
enum { KREP_STATUS, KREP_ERROR, KREP_FIRST };
/* ... after IPC_KMS_INIT. SEALED is the blob the host must store (the same
 * one it sent, or a new one on first start); EVIDENCE binds both keys;
 * SIGNING_JWK is the ES256 public key as a JWK; HPKE_PK the X25519 key. */
enum {
    KINITR_SEALED = KREP_FIRST, KINITR_EVIDENCE, KINITR_SIGNING_JWK, KINITR_HPKE_PK,
    KINITR_MEASUREMENT, KINITR_NFIELDS
};

/* IPC_KMS_DEPLOY fields: the namespace and name the host will store the
 * function under, and the tenant's package sealed to the KMS HPKE key. */
enum { KDEP_NS, KDEP_NAME, KDEP_SEALED, KDEP_NFIELDS };
/* ... its reply: the function certificate (JWS), the function record sealed
 * by the KMS to itself (the host stores it), application/ohttp-keys, and
 * the KMS's new sealed state (the host stores it before it stores the
 * action, and hands it back in the next IPC_KMS_INIT). */
enum { KDEPR_CERT = KREP_FIRST, KDEPR_RECORD, KDEPR_OHTTP_KEYS, KDEPR_STATE, KDEPR_SHARED, KDEPR_NFIELDS };

/* IPC_KMS_RELEASE fields: the function record (as stored at deploy) and the
 * worker identity a NEED_KEYS result carried. Reply: the release bundle the
 * host hands to the worker unchanged (INV_KEYS), and the KMS's new sealed
 * state (with the release's replay lease), which the host stores first. */
enum { KREL_RECORD, KREL_WORKER, KREL_NFIELDS };
enum { KRELR_BUNDLE = KREP_FIRST, KRELR_STATE, KRELR_SHARED, KRELR_NFIELDS };
/* Both replies end with SHARED: the new state for the store (IPC_KMS_SYNC),
 * one generation above the one synced. IPC_KMS_SYNC's one field is that
 * blob as the store holds it; its reply has no fields. */
enum { KSYNC_SHARED, KSYNC_NFIELDS };

/* IPC_KMS_JOIN has no fields; its reply is the hello: the joining KMS's
 * evidence over its transfer key and that X25519 key (32 bytes). */
enum { KJOINR_EVIDENCE = KREP_FIRST, KJOINR_KEY, KJOINR_NFIELDS };
/* IPC_KMS_GIVE fields: the hello as the peer sent it; the reply: the giving
 * KMS's evidence over the transcript and the wrapped keys (enc || ct). */
enum { KGIVE_EVIDENCE, KGIVE_KEY, KGIVE_NFIELDS };
enum { KGIVER_EVIDENCE = KREP_FIRST, KGIVER_WRAPPED, KGIVER_NFIELDS };
/* IPC_KMS_ADOPT fields: the GIVE reply as relayed; the reply is an
 * IPC_KMS_INIT reply followed by the adopted state, sealed here. */
enum { KADOPT_EVIDENCE, KADOPT_WRAPPED, KADOPT_NFIELDS };
enum { KADOPTR_STATE = KINITR_NFIELDS, KADOPTR_NFIELDS };

typedef enum {
    KMS_OK = 0,
    KMS_ERR_REQUEST = 1,  /* malformed request */
    KMS_ERR_UNSEAL = 2,   /* the sealed keys do not open here (another enclave or platform, or tampered) */
    KMS_ERR_STATE = 3,    /* request out of order (e.g. before IPC_KMS_INIT) */
    KMS_ERR_INTERNAL = 4, /* crypto or memory failure */
    KMS_ERR_OPEN = 5,     /* a tenant's package does not open with the KMS key (tampered, stale key) */
    KMS_ERR_POLICY = 6,   /* a package or release the policy refuses (wrong name, measurement, ...) */
    KMS_ERR_STALE = 7,    /* a package whose deploy version is not above the function's latest (rollback) */
} kms_status;

/* IPC_HELLO fields */
enum { HELLO_PROTOCOL, HELLO_ENGINE, HELLO_WORKERS, HELLO_NFIELDS };

/* IPC_INVOKE fields. FN_KEY names one revision of one function
 * ("ns/name@version", where ns is the host's namespace key "name#id", so a
 * namespace created again under an old name never meets the old one's
 * heaps; the enclave treats it as opaque); CODE may be empty when the host knows this enclave
 * already holds that revision. An enclave that gets an empty CODE for a key
 * it does not know answers TFAAS_STATUS_NEED_CODE and the host resends. */
/* CONFIDENTIAL (u64 0 or 1) marks a confidential function: CODE is then
 * base64url of its encrypted code, PARAMS the encapsulated OHTTP request,
 * and KEYS empty or the KMS's key release for this enclave (sent after the
 * enclave answered TFAAS_STATUS_NEED_KEYS). docs/protocol.md §6.4. */
/* ACTION is a JSON object text (empty: {}) saying how to run the action:
 * "binary": true when CODE is a zip action's base64 text (OpenWhisk's
 * stored form; the enclave decodes and unzips it), "node": true for a
 * nodejs:* kind (the Node surface: process, Buffer, require of built-ins),
 * and "env": OpenWhisk's __OW_* strings the host knows (action name,
 * namespace, version); the enclave adds the activation id and deadline. */
enum {
    INV_FN_KEY, INV_CODE, INV_MAIN, INV_PARAMS, INV_ACTIVATION_ID,
    INV_TIMEOUT_MS, INV_MEMORY_BYTES, INV_MAX_RESULT_BYTES, INV_MAX_LOG_BYTES,
    INV_CONCURRENCY, INV_CONFIDENTIAL, INV_KEYS, INV_ACTION, INV_EGRESS, INV_NFIELDS
};

/* EGRESS is the activation's egress policies as a JSON array (the
 * namespace's, then the action's "egress" annotation if any;
 * common/egress_policy.h); empty when the host allows no fetch. */

/* IPC_RESULT fields. RESULT is a JSON object text; LOGS is log lines joined
 * by '\n', each "2026-11-24T16:09:00.123Z stdout: text" as OpenWhisk writes.
 * SEALED is empty except for a confidential call that ran: it is then the
 * OHTTP response (message/ohttp-res bytes, the receipt inside), RESULT is
 * "{}" and LOGS is base64url of the sealed logs. Raw bytes, so that neither
 * side encodes, escapes or parses them (docs/protocol.md §6.4). */
enum {
    RES_STATUS, RES_RESULT, RES_LOGS, RES_DURATION_US, RES_INIT_US,
    RES_PEAK_MEMORY, RES_SEALED, RES_NFIELDS
};

/* IPC_DROP fields: FN_KEY is a function revision, or a prefix "ns/name@"
 * that drops every revision of that function. */
enum { DROP_FN_KEY, DROP_NFIELDS };

/* Activation outcome, numerically OpenWhisk's response.statusCode. */
typedef enum {
    TFAAS_STATUS_SUCCESS         = 0, /* "success" */
    TFAAS_STATUS_APPLICATION_ERR = 1, /* "application error": returned {error} */
    TFAAS_STATUS_DEVELOPER_ERR   = 2, /* "action developer error": threw, timed out, ... */
    TFAAS_STATUS_INTERNAL_ERR    = 3, /* "whisk internal error" */
    TFAAS_STATUS_NEED_CODE       = 100, /* IPC only: resend INVOKE with the code */
    TFAAS_STATUS_NEED_KEYS       = 101, /* IPC only: RESULT holds the enclave's worker
                                         * identity; resend INVOKE with a key release */
    TFAAS_STATUS_NOT_RUN         = 102, /* IPC only: a cancelled INVOKE that never ran */
} tfaas_status;

typedef enum {
    IPC_OK = 0,
    IPC_ERR_EOF,        /* peer closed cleanly between frames */
    IPC_ERR_IO,         /* read/write failed (errno kept) */
    IPC_ERR_TRUNCATED,  /* frame shorter than its own lengths say */
    IPC_ERR_TOO_LARGE,  /* frame or message over IPC_MAX_FRAME */
    IPC_ERR_VERSION,    /* unknown protocol version */
    IPC_ERR_FIELDS,     /* too many fields, or bytes left over */
    IPC_ERR_NOMEM,
    IPC_ERR_AGAIN,      /* ipc_try_send: the socket took nothing; try later */
} ipc_status;

typedef struct {
    const uint8_t *ptr; /* points into the owning ipc_msg's buffer */
    uint32_t len;
} ipc_field;

typedef struct {
    uint8_t type;
    uint64_t id;
    uint16_t nfields;
    ipc_field fields[IPC_MAX_FIELDS];
    uint8_t *buf; /* owned by the message once received; NULL after decode-in-place */
} ipc_msg;

/* A message under construction; the frame is built in one growing buffer. */
typedef struct {
    uint8_t *data;
    size_t len, cap;
    uint16_t nfields;
    int failed; /* sticky: set when a put overflowed or ran out of memory */
} ipc_writer;

void ipc_writer_begin(ipc_writer *w, ipc_type type, uint64_t id);
void ipc_put_bytes(ipc_writer *w, const void *bytes, size_t len);
void ipc_put_str(ipc_writer *w, const char *s); /* NULL is an empty field */
void ipc_put_u64(ipc_writer *w, uint64_t v);
/* Seals the frame header. Returns IPC_OK, or the reason it cannot be sent. */
ipc_status ipc_writer_finish(ipc_writer *w);
void ipc_writer_free(ipc_writer *w);

/* Parses one frame body (after the u32 length). Fields point into `body`. */
ipc_status ipc_decode(const uint8_t *body, size_t len, ipc_msg *out);

/* Whole-frame I/O on a blocking descriptor; both retry on EINTR and partial
 * transfers. ipc_recv allocates the frame; release it with ipc_msg_free. */
ipc_status ipc_send(int fd, const ipc_writer *w);
ipc_status ipc_recv(int fd, ipc_msg *out);
void ipc_msg_free(ipc_msg *m);

/* Buffered reading of one channel: frames that arrive together are taken in
 * one read() instead of two per frame, and the caller can tell whether the
 * next frame is already here (to handle a burst as one batch, under one lock
 * and one wake-up). A frame larger than the buffer is read straight into its
 * own allocation. Owned by the one thread that reads the descriptor. */
#define IPC_INBUF_BYTES (64u << 10)
typedef struct {
    int fd;
    size_t start, end; /* unread bytes are data[start, end) */
    uint8_t data[IPC_INBUF_BYTES];
} ipc_inbuf;

void ipc_inbuf_init(ipc_inbuf *b, int fd);
/* The next frame, reading (blocking) only when no whole frame is buffered.
 * Same results as ipc_recv; after an error the channel is unusable. */
ipc_status ipc_inbuf_recv(ipc_inbuf *b, ipc_msg *out);
/* 1 when a whole frame is buffered, so ipc_inbuf_recv will not block. */
int ipc_inbuf_ready(const ipc_inbuf *b);
/* 1 when any byte is buffered (poll() on fd alone would miss it). */
int ipc_inbuf_pending(const ipc_inbuf *b);

/* Field accessors: -1 when the field is absent or has the wrong size. */
int ipc_get_u64(const ipc_msg *m, unsigned idx, uint64_t *out);
/* Copies a field into a fresh NUL-terminated string; NULL if absent or no memory. */
char *ipc_get_str(const ipc_msg *m, unsigned idx);

/* Like ipc_send, but returns IPC_ERR_AGAIN at once when the socket cannot
 * take any of the frame now, so a caller that must not wait (an event
 * thread) can hand it to a thread that may. Once part of the frame is
 * written the rest is sent blocking, since frames must not interleave. */
ipc_status ipc_try_send(int fd, const ipc_writer *w);
const char *ipc_status_str(ipc_status s);

#endif
