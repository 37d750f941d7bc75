/* test_store_checkpoint.c - SQLite's WAL checkpoint kept off the commit path
 * (store_sqlite.c): one thread commits a steady stream of large records in
 * sections, as an enclave reader does under load, with no pause for the
 * checkpoint to catch up. The writer thread's checkpoints and the commits'
 * tail copies (whole copies when the writer thread is starved, as on a
 * loaded machine) must keep the WAL bounded (it starts over), and the
 * database file must receive the records while the store is open (closing
 * it would checkpoint everything anyway). Fails if checkpoints never run,
 * or run but never let the WAL start over. SQLite only: skipped under
 * PostgreSQL. */
#include "check.h"
#include "host/store/store.h"
#include "test_store_helpers.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>

#define RECORDS 12000
#define RECORD_BYTES 12000 /* about 4 WAL frames each: 48000 frames in all */
#define SECTION 32
/* store_sqlite.c checkpoints from 8000 frames on, and a commit copies all
 * itself from 16000 frames on (the writer thread starved); a WAL that never
 * started over would hold all 48000 frames (198 MB of 4120-byte frames). */
#define WAL_BOUND (20000ll * 4120)

static long long file_size(const char *dir, const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static atomic_int stored;

static void on_committed(void *ud, store_status st) {
    (void)ud;
    if (st == STORE_OK) atomic_fetch_add(&stored, 1);
}

int main(void) {
    if (test_store_pg()) {
        printf("test_store_checkpoint: SQLite only, skipped under PostgreSQL\n");
        return CHECK_DONE();
    }
    char *dir = scratch_dir("checkpoint");
    store *s = NULL;
    char *err = NULL;
    CHECK(store_open(test_store_target(dir), &s, &err) == STORE_OK);
    free(err);
    if (!s) return CHECK_DONE();

    char *payload = malloc(RECORD_BYTES + 1);
    memset(payload, 'x', RECORD_BYTES);
    payload[RECORD_BYTES] = '\0';
    long long wal_max = 0;
    for (int i = 0; i < RECORDS;) {
        store_activation_section_begin(s);
        for (int n = 0; n < SECTION && i < RECORDS; n++, i++) {
            char id[40];
            snprintf(id, sizeof id, "ckpt-%06d", i);
            json_t *rec = make_activation("ns", "big", id, 1000000 + i, "success");
            json_object_set_new(json_object_get(json_object_get(rec, "response"), "result"), "payload",
                                json_string(payload));
            store_activation_put(s, rec, NULL, on_committed, NULL);
        }
        store_activation_section_end(s);
        long long wal = file_size(dir, "tfaas.db-wal");
        if (wal > wal_max) wal_max = wal;
    }
    CHECK(atomic_load(&stored) == RECORDS);
    /* The WAL file keeps its largest size when it starts over. */
    printf("largest WAL %lld bytes, database %lld bytes before close\n", wal_max, file_size(dir, "tfaas.db"));
    CHECK(wal_max > 0 && wal_max < WAL_BOUND);
    /* At least half of the records' bytes were copied while open. */
    CHECK(file_size(dir, "tfaas.db") > (long long)RECORDS * RECORD_BYTES / 2);
    store_close(s);
    CHECK(db_integrity_ok(dir));
    scratch_remove(dir);
    free(payload);
    return CHECK_DONE();
}
