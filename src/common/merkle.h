/* merkle.h - the Merkle tree hashing of RFC 9162 §2.1 over SHA-256, for
 * receipts signed in batches (docs/protocol.md §6.5): the enclave makes a
 * root and one audit path per leaf, verifiers recompute the root from a
 * leaf and its path. Trees here are small (a batch, MERKLE_MAX_LEAVES). */
#ifndef TFAAS_COMMON_MERKLE_H
#define TFAAS_COMMON_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_LEN 32u
#define MERKLE_MAX_LEAVES 64u /* what merkle_root and merkle_path take */
#define MERKLE_MAX_PATH 63u   /* the longest audit path of any tree of up to 2^63 leaves */

typedef enum {
    MERKLE_OK = 0,
    MERKLE_ERR_SIZE,  /* the tree size is 0 */
    MERKLE_ERR_INDEX, /* the leaf index is not below the tree size */
    MERKLE_ERR_PATH,  /* the path is too long or too short for this index and size */
    MERKLE_ERR_ROOT,  /* the leaf and path give another root */
} merkle_result;

const char *merkle_result_name(merkle_result r);

/* The leaf hash of data: SHA-256(0x00 || data). */
void merkle_leaf(const uint8_t *data, size_t len, uint8_t out[MERKLE_HASH_LEN]);

/* The root (MTH) of n leaf hashes, 1 <= n <= MERKLE_MAX_LEAVES; -1 otherwise. */
int merkle_root(const uint8_t (*leaves)[MERKLE_HASH_LEN], size_t n, uint8_t out[MERKLE_HASH_LEN]);

/* The audit path (RFC 9162 §2.1.3.1) of leaf m among n leaf hashes, nearest
 * sibling first, into path (room for MERKLE_MAX_PATH); its length, or -1
 * when m >= n or n is out of range. A tree of one leaf has an empty path. */
int merkle_path(const uint8_t (*leaves)[MERKLE_HASH_LEN], size_t n, size_t m,
                uint8_t (*path)[MERKLE_HASH_LEN]);

/* Verifies an inclusion proof (RFC 9162 §2.1.3.2): leaf hash `leaf` at
 * `index` of a tree of `size` leaves whose root is `root`. */
merkle_result merkle_verify(const uint8_t leaf[MERKLE_HASH_LEN], uint64_t index, uint64_t size,
                            const uint8_t (*path)[MERKLE_HASH_LEN], size_t path_len,
                            const uint8_t root[MERKLE_HASH_LEN]);

#endif
