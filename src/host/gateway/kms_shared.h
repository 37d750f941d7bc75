/* kms_shared.h - the key service's shared state kept in the store
 * (store_kms_state_get/put) as kms_service wants it (kms_shared_store). */
#ifndef TFAAS_HOST_GATEWAY_KMS_SHARED_H
#define TFAAS_HOST_GATEWAY_KMS_SHARED_H

#include "host/kms/kms.h"
#include "host/store/store.h"

/* The callbacks over st (which must outlive the key service). */
kms_shared_store kms_shared_in_store(store *st);

#endif
