/* hpke.h - Hybrid Public Key Encryption (RFC 9180), mode_base, one KEM and KDF:
 *   KEM  DHKEM(X25519, HKDF-SHA256)  0x0020  (Nenc = Npk = Nsk = 32)
 *   KDF  HKDF-SHA256                 0x0001
 *   AEAD AES-128-GCM 0x0001, ChaCha20-Poly1305 0x0003  (Nn = 12, Nt = 16)
 * plus the secret export interface. Built from OpenSSL 3.0 libcrypto
 * primitives (3.0 has no HPKE API).
 *
 * Ownership: a context and a key pair are plain structs the caller owns;
 * hpke_ctx_wipe / hpke_keypair_wipe erase their secrets. */
#ifndef TFAAS_COMMON_HPKE_H
#define TFAAS_COMMON_HPKE_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#define HPKE_KEM_X25519_SHA256 0x0020u
#define HPKE_KDF_HKDF_SHA256   0x0001u
#define HPKE_AEAD_AES_128_GCM  0x0001u
#define HPKE_AEAD_CHACHA20_POLY1305 0x0003u

#define HPKE_NENC 32u   /* encapsulated key, = public key length */
#define HPKE_NPK  32u
#define HPKE_NSK  32u
#define HPKE_NN   12u   /* AEAD nonce */
#define HPKE_NT   16u   /* AEAD tag */
#define HPKE_NH   32u   /* KDF output */
#define HPKE_MAX_NK 32u
#define HPKE_MAX_EXPORT (255u * HPKE_NH)
#define HPKE_MAX_LABELED 65536u  /* cap on info / aad-free label inputs, bytes */

typedef enum {
    HPKE_OK = 0,
    HPKE_ERR_SUITE,        /* unsupported kem/kdf/aead id */
    HPKE_ERR_LENGTH,       /* an input length is wrong or too large, or the output buffer is short */
    HPKE_ERR_KEY,          /* a public key or enc is not a usable X25519 point (e.g. low order) */
    HPKE_ERR_OPEN,         /* authentication failed: tampered, wrong key, wrong aad */
    HPKE_ERR_SEQ_OVERFLOW, /* the context has used every nonce */
    HPKE_ERR_CRYPTO,       /* OpenSSL failed (memory, RNG) */
} hpke_result;

typedef struct {
    uint8_t sk[HPKE_NSK];
    uint8_t pk[HPKE_NPK];
} hpke_keypair;

typedef struct {
    uint16_t aead_id;
    size_t nk;
    uint8_t key[HPKE_MAX_NK];
    uint8_t base_nonce[HPKE_NN];
    uint64_t seq;           /* next sequence number; refused at UINT64_MAX */
    uint8_t exporter_secret[HPKE_NH];
} hpke_ctx;

/* Name of a result, for messages. */
const char *hpke_result_name(hpke_result r);

/* Is aead_id one of the implemented AEADs? Key length (Nk) through *nk. */
int hpke_aead_supported(uint16_t aead_id, size_t *nk);

/* DeriveKeyPair(ikm) (RFC 9180 §7.1.3); ikm at least HPKE_NSK bytes. */
hpke_result hpke_keypair_derive(hpke_keypair *kp, const uint8_t *ikm, size_t ikm_len);
/* A fresh random key pair. */
hpke_result hpke_keypair_generate(hpke_keypair *kp);
/* The public key of a serialized private key. */
hpke_result hpke_keypair_from_private(hpke_keypair *kp, const uint8_t sk[HPKE_NSK]);
void hpke_keypair_wipe(hpke_keypair *kp);

/* SetupBaseS: encapsulate to pk_r; the ephemeral key pair is eph when given
 * (tests, deterministic vectors) or a fresh random one when NULL. */
hpke_result hpke_setup_sender(hpke_ctx *ctx, uint16_t aead_id, const uint8_t *pk_r, size_t pk_r_len,
                              const uint8_t *info, size_t info_len, const hpke_keypair *eph,
                              uint8_t enc[HPKE_NENC]);
/* SetupBaseR: decapsulate enc with the recipient's key pair. */
hpke_result hpke_setup_receiver(hpke_ctx *ctx, uint16_t aead_id, const uint8_t *enc, size_t enc_len,
                                const hpke_keypair *kp_r, const uint8_t *info, size_t info_len);
/* kp as an OpenSSL key object, for a key that decapsulates many times:
 * made once, it spares each hpke_setup_receiver_key the import of the key
 * pair (about a sixth of a decapsulation). The caller frees it with
 * EVP_PKEY_free; NULL when OpenSSL fails. */
EVP_PKEY *hpke_keypair_pkey(const hpke_keypair *kp);
/* hpke_setup_receiver with key, hpke_keypair_pkey(kp_r), made beforehand
 * (NULL: imported for this call, as hpke_setup_receiver does). */
hpke_result hpke_setup_receiver_key(hpke_ctx *ctx, uint16_t aead_id, const uint8_t *enc, size_t enc_len,
                                    const hpke_keypair *kp_r, EVP_PKEY *key, const uint8_t *info, size_t info_len);

/* Seal: ct_cap must be at least pt_len + HPKE_NT; *ct_len = pt_len + HPKE_NT. */
hpke_result hpke_seal(hpke_ctx *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *pt,
                      size_t pt_len, uint8_t *ct, size_t ct_cap, size_t *ct_len);
/* Open: pt_cap must be at least ct_len - HPKE_NT. The sequence number moves
 * on only when the message authenticates. */
hpke_result hpke_open(hpke_ctx *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *ct,
                      size_t ct_len, uint8_t *pt, size_t pt_cap, size_t *pt_len);
/* Export(exporter_context, L), L in 1..HPKE_MAX_EXPORT. */
hpke_result hpke_export(const hpke_ctx *ctx, const uint8_t *exp_ctx, size_t exp_ctx_len,
                        uint8_t *out, size_t out_len);
void hpke_ctx_wipe(hpke_ctx *ctx);

/* Single-shot encryption (RFC 9180 §6.1) with an empty aad, in the one wire
 * form tfaas uses for it: enc || ciphertext. seal_base: *out (malloc'd) is
 * HPKE_NENC + pt_len + HPKE_NT bytes. open_base: *pt (malloc'd, one byte
 * longer than *pt_len and NUL-terminated, so JSON text can be parsed in
 * place) holds the plaintext; the caller wipes it before freeing when it is
 * secret. */
hpke_result hpke_seal_base(uint16_t aead_id, const uint8_t pk_r[HPKE_NPK], const char *info, const uint8_t *pt,
                           size_t pt_len, uint8_t **out, size_t *out_len);
hpke_result hpke_open_base(uint16_t aead_id, const hpke_keypair *kp_r, const char *info, const uint8_t *msg,
                           size_t msg_len, uint8_t **pt, size_t *pt_len);

#endif
