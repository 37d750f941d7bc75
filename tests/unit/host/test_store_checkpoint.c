/* test_store_checkpoint.c - SQLite's WAL checkpoint kept off the commit path
 * (store_sqlite.c): one thread commits a steady stream of large records in
 * sections, as an enclave reader does under load, with no pause for the
 * checkpoint to catch up. The writer thread's checkpoints and the commits'
 * tail copies (whole copies when the writer thread is starved, as on a
 * loaded machine) must keep the WAL bounded (it starts over), and the
 * database file must receive the records while the store is open (closing
 * it would checkpoint everything anyway). Fails if checkpoints never run,
 * or run but never let the WAL start over.
 * Then a checkpoint held back: a reader keeps the writer thread's checkpoint
 * from copying the WAL, the commits copy it whole at the bound, and in the
 * next WAL the writer thread must checkpoint again by itself (once a miss
 * pushed its next try past the bound for good, and every later WAL stalled
 * the commits). SQLite only: skipped under PostgreSQL. */
#include "check.h"
#include "host/metrics/metrics.h"
#include "host/store/store.h"
#include "test_store_helpers.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

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

/* Commits n records of RECORD_BYTES in sections, ids from *next on. */
static void put_records(store *s, const char *payload, int *next, int n) {
    for (int done = 0; done < n;) {
        store_activation_section_begin(s);
        for (int k = 0; k < SECTION && done < n; k++, done++, (*next)++) {
            char id[40];
            snprintf(id, sizeof id, "ckpt-%06d", *next);
            json_t *rec = make_activation("ns", "big", id, 1000000 + *next, "success");
            json_object_set_new(json_object_get(json_object_get(rec, "response"), "result"), "payload",
                                json_string(payload));
            store_activation_put(s, rec, NULL, on_committed, NULL);
        }
        store_activation_section_end(s);
    }
}

/* Waits until the writer thread's checkpoints number more than `than`: it
 * is woken as soon as one is due, so the bound is only for a starved CPU. */
static int background_checkpoint_after(uint64_t than) {
    for (int i = 0; i < 3000; i++) {
        if (metrics_store_checkpoints(METRICS_CHECKPOINT_BACKGROUND) > than) return 1;
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000000L}, NULL);
    }
    return 0;
}

/* store_sqlite.c's thresholds in records of about 4 frames: its writer
 * checkpoints from 8000 frames, commits copy all from 16000. */
#define RECORDS_PAST_DUE 2300   /* ~9200 frames */
#define RECORDS_PAST_BOUND 2300 /* with the above, ~18400 frames */

static void held_back_checkpoint(void) {
    char *dir = scratch_dir("checkpoint-held");
    store *s = NULL;
    char *err = NULL;
    CHECK(store_open(test_store_target(dir), &s, &err) == STORE_OK);
    free(err);
    if (!s) return;
    char *payload = malloc(RECORD_BYTES + 1);
    memset(payload, 'y', RECORD_BYTES);
    payload[RECORD_BYTES] = '\0';
    int next = 0;
    atomic_store(&stored, 0);
    put_records(s, payload, &next, 10); /* the database and its WAL exist */

    /* A reader's snapshot from before the next records: the writer
     * thread's checkpoint can copy none of them. */
    char path[1024];
    snprintf(path, sizeof path, "%s/tfaas.db", dir);
    sqlite3 *reader = NULL;
    sqlite3_stmt *st = NULL;
    CHECK(sqlite3_open_v2(path, &reader, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    CHECK(sqlite3_exec(reader, "BEGIN", NULL, NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(reader, "SELECT count(*) FROM activations", -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    sqlite3_finalize(st);

    uint64_t before = metrics_store_checkpoints(METRICS_CHECKPOINT_BACKGROUND);
    put_records(s, payload, &next, RECORDS_PAST_DUE);
    CHECK(background_checkpoint_after(before)); /* it ran, and copied what it could */
    sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(reader);

    /* Past the bound, a commit copies the whole WAL; the next starts it over. */
    uint64_t blocking = metrics_store_checkpoints(METRICS_CHECKPOINT_BLOCKING);
    put_records(s, payload, &next, RECORDS_PAST_BOUND);
    CHECK(metrics_store_checkpoints(METRICS_CHECKPOINT_BLOCKING) > blocking ||
          metrics_store_checkpoints(METRICS_CHECKPOINT_BACKGROUND) > before + 1);

    /* The new WAL: past the threshold, the writer thread checkpoints by
     * itself again (the commits wait for it, so nothing else can copy). */
    put_records(s, payload, &next, 50);
    uint64_t now = metrics_store_checkpoints(METRICS_CHECKPOINT_BACKGROUND);
    put_records(s, payload, &next, RECORDS_PAST_DUE);
    CHECK(background_checkpoint_after(now));
    CHECK(atomic_load(&stored) == next);

    store_close(s);
    CHECK(db_integrity_ok(dir));
    scratch_remove(dir);
    free(payload);
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
    held_back_checkpoint();
    return CHECK_DONE();
}
