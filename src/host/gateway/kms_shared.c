/* kms_shared.c - kms_shared_store over the store's kms_state row; see
 * kms_shared.h. */
#include "host/gateway/kms_shared.h"

#include "common/errmsg.h"

#include <stdlib.h>

static int get(void *ud, int64_t *generation, uint8_t **blob, size_t *len, char **err) {
    store_status st = store_kms_state_get(ud, generation, blob, len);
    if (st == STORE_NOT_FOUND) {
        *blob = NULL;
        *generation = 0;
        return 0;
    }
    return st == STORE_OK ? 0 : errmsg(err, "cannot read the key service's shared state: %s", store_last_error());
}

static int put(void *ud, int64_t expect, const uint8_t *blob, size_t len, char **err) {
    store_status st = store_kms_state_put(ud, expect, expect + 1, blob, len);
    if (st == STORE_CONFLICT) return 1;
    return st == STORE_OK ? 0 : errmsg(err, "cannot store the key service's shared state: %s", store_last_error());
}

kms_shared_store kms_shared_in_store(store *st) {
    return (kms_shared_store){.ud = st, .get = get, .put = put};
}
