/* test_util_ids.c - shapes and uniqueness of generated ids and secrets. */
#include "check.h"
#include "host/util/ids.h"

#include <ctype.h>
#include <string.h>
#include <time.h>

int main(void) {
    char a[33], b[33];
    CHECK(ids_hex(a, 16) == 0 && ids_hex(b, 16) == 0);
    CHECK(strlen(a) == 32 && strcmp(a, b) != 0);
    for (int i = 0; i < 32; i++) CHECK(isxdigit((unsigned char)a[i]) && !isupper((unsigned char)a[i]));
    char big[200];
    CHECK(ids_hex(big, 65) == -1); /* over the documented cap */

    /* activation ids: 32 hex digits, time first, so later ids sort later */
    char act1[33], act2[33];
    CHECK(ids_activation(act1) == 0);
    struct timespec pause = {0, 3000000};
    nanosleep(&pause, NULL);
    CHECK(ids_activation(act2) == 0);
    CHECK(strlen(act1) == 32 && strlen(act2) == 32);
    for (int i = 0; i < 32; i++) CHECK(isxdigit((unsigned char)act1[i]) && !isupper((unsigned char)act1[i]));
    CHECK(strcmp(act1, act2) < 0);
    CHECK(strcmp(act1 + 12, act2 + 12) != 0); /* the random part differs */

    char u[37];
    CHECK(ids_uuid(u) == 0);
    CHECK(strlen(u) == 36 && u[8] == '-' && u[13] == '-' && u[14] == '4' && u[18] == '-' && u[23] == '-');
    CHECK(strchr("89ab", u[19]) != NULL);

    char k1[65], k2[65];
    CHECK(ids_secret(k1, 64) == 0 && ids_secret(k2, 64) == 0);
    CHECK(strlen(k1) == 64 && strcmp(k1, k2) != 0);
    for (int i = 0; i < 64; i++) CHECK(isalnum((unsigned char)k1[i]));
    return CHECK_DONE();
}
