/* test_store.c - the store's namespaces, credentials and actions: create,
 * conflicts, version bumps, list order and paging, delete cascade, hostile
 * names, reopen, and open failures. Activations: test_store_activations.c;
 * crashes and write failures: test_store_durability.c. */
#include "check.h"
#include "host/store/store.h"
#include "test_store_helpers.h"

#include <errno.h>
#include <sys/stat.h>

static json_t *action_doc(const char *code) {
    return json_pack("{s:{s:s, s:s, s:b}, s:[], s:[], s:{s:i, s:i, s:i}}", "exec", "kind", "js:duktape", "code",
                     code, "binary", 0, "parameters", "annotations", "limits", "timeout", 60000, "memory", 256,
                     "concurrency", 1);
}

static void test_open_creates_private_dir(void) {
    char *root = scratch_dir("store");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/a/b/state", root);
    store *s = NULL;
    char *err = NULL;
    CHECK(store_open(test_store_target(dir), &s, &err) == STORE_OK && s && !err);
    struct stat sb;
    CHECK(stat(dir, &sb) == 0 && (sb.st_mode & 0777) == 0700);
    CHECK(stat(path_join(dir, "tfaas.db"), &sb) == 0 && (sb.st_mode & 0777) == 0600);
    store_close(s);
    store_close(NULL); /* documented no-op */

    /* A path that is a regular file cannot hold the state. */
    const char *file = path_join(root, "plainfile");
    FILE *f = fopen(file, "w");
    if (f) fclose(f);
    char filecopy[1024];
    snprintf(filecopy, sizeof filecopy, "%s", file);
    s = NULL;
    CHECK(store_open(filecopy, &s, &err) == STORE_ERROR && !s);
    CHECK(err && strstr(err, "not a directory"));
    free(err);
    err = NULL;

    /* A read-only directory without a database yet. */
    char ro[1024];
    snprintf(ro, sizeof ro, "%s/readonly", root);
    CHECK(mkdir(ro, 0500) == 0);
    if (geteuid() == 0) {
        printf("skip: read-only directory check (running as root, chmod does not stop root's writes)\n");
    } else {
        CHECK(store_open(ro, &s, &err) == STORE_ERROR && !s);
        CHECK(err && strstr(err, "tfaas.db") && strstr(err, "ermission denied"));
        free(err);
        err = NULL;
    }

    /* A database from a newer tfaas is refused, not misread. */
    char newer[1024];
    snprintf(newer, sizeof newer, "%s/newer", root);
    CHECK(store_open(newer, &s, &err) == STORE_OK);
    store_close(s);
    sqlite3 *db;
    CHECK(sqlite3_open(path_join(newer, "tfaas.db"), &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    s = NULL;
    CHECK(store_open(newer, &s, &err) == STORE_ERROR && !s);
    CHECK(err && strstr(err, "schema version 99"));
    free(err);
    err = NULL;

    /* A version 1 database (namespaces without ids) gets one id each. */
    char v1[1024], u[STORE_UUID_LEN + 1], k[STORE_KEY_LEN + 1], ns[64], id[STORE_NSID_LEN + 1];
    snprintf(v1, sizeof v1, "%s/v1", root);
    CHECK(store_open(v1, &s, &err) == STORE_OK);
    CHECK(store_namespace_create(s, "old", NULL, NULL, u, k) == STORE_OK);
    store_close(s);
    CHECK(sqlite3_open(path_join(v1, "tfaas.db"), &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "ALTER TABLE namespaces DROP COLUMN ns_id; DROP TABLE packages; PRAGMA user_version=1",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    s = NULL;
    CHECK(store_open(v1, &s, &err) == STORE_OK);
    CHECK(store_authenticate(s, u, k, ns, sizeof ns, id) == STORE_OK && strlen(id) == STORE_NSID_LEN);
    CHECK(store_namespace_alive(s, "old", id) == STORE_OK);
    store_close(s);
    scratch_remove(root);
}

static void test_namespaces(store *s, const char *dir) {
    char uuid[STORE_UUID_LEN + 1], key[STORE_KEY_LEN + 1], ns[300];
    CHECK(store_namespace_create(s, "alice", NULL, NULL, uuid, key) == STORE_OK);
    CHECK(strlen(uuid) == 36 && strlen(key) == 64);
    CHECK(store_authenticate(s, uuid, key, ns, sizeof ns, NULL) == STORE_OK);
    CHECK_STR(ns, "alice");

    char wrong[STORE_KEY_LEN + 1];
    memcpy(wrong, key, sizeof wrong);
    wrong[63] = wrong[63] == 'a' ? 'b' : 'a';
    CHECK(store_authenticate(s, uuid, wrong, ns, sizeof ns, NULL) == STORE_NOT_FOUND);
    CHECK(store_authenticate(s, uuid, "", ns, sizeof ns, NULL) == STORE_NOT_FOUND);
    CHECK(store_authenticate(s, "00000000-0000-4000-8000-000000000000", key, ns, sizeof ns, NULL) == STORE_NOT_FOUND);
    CHECK(store_authenticate(s, uuid, key, ns, 3, NULL) == STORE_ERROR); /* "alice" does not fit */

    char u2[STORE_UUID_LEN + 1], k2[STORE_KEY_LEN + 1];
    CHECK(store_namespace_create(s, "alice", NULL, NULL, u2, k2) == STORE_CONFLICT);
    CHECK(store_namespace_create(s, "bob", "23bc46b1-71f6-4ed5-8c54-816aa4f8c502", "secret-key", u2, k2) == STORE_OK);
    CHECK_STR(u2, "23bc46b1-71f6-4ed5-8c54-816aa4f8c502");
    CHECK_STR(k2, "secret-key");
    CHECK(store_authenticate(s, u2, "secret-key", ns, sizeof ns, NULL) == STORE_OK);
    CHECK_STR(ns, "bob");
    /* The same uuid for a second namespace would make auth ambiguous. */
    CHECK(store_namespace_create(s, "carol", "23bc46b1-71f6-4ed5-8c54-816aa4f8c502", "x", NULL, NULL) ==
          STORE_CONFLICT);
    CHECK(store_namespace_create(s, "carol", "bad:uuid", "x", NULL, NULL) == STORE_ERROR);
    CHECK(strstr(store_last_error(), "uuid") != NULL);
    char longkey[100];
    memset(longkey, 'k', 99);
    longkey[99] = 0;
    CHECK(store_namespace_create(s, "carol", NULL, longkey, NULL, NULL) == STORE_ERROR);

    /* Replacing the credential: the old one stops working at once. */
    CHECK(store_namespace_set_credential(s, "bob", "11111111-2222-4333-8444-555555555555", "new-key") == STORE_OK);
    CHECK(store_authenticate(s, "23bc46b1-71f6-4ed5-8c54-816aa4f8c502", "secret-key", ns, sizeof ns, NULL) ==
          STORE_NOT_FOUND);
    CHECK(store_authenticate(s, "11111111-2222-4333-8444-555555555555", "new-key", ns, sizeof ns, NULL) == STORE_OK);
    CHECK(store_namespace_set_credential(s, "nobody", "x", "y") == STORE_NOT_FOUND);
    CHECK(store_namespace_set_credential(s, "bob", uuid, "y") == STORE_CONFLICT); /* alice's uuid */

    json_t *list = NULL;
    CHECK(store_namespace_list(s, &list) == STORE_OK && json_array_size(list) == 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(list, 0), "name")), "alice");
    CHECK_STR(json_string_value(json_object_get(json_array_get(list, 0), "uuid")), uuid);
    CHECK_STR(json_string_value(json_object_get(json_array_get(list, 1), "name")), "bob");
    CHECK(json_object_get(json_array_get(list, 0), "key") == NULL);
    json_decref(list);

    /* The key itself is nowhere in the files, only its 32-byte hash. */
    if (test_store_pg()) return; /* SQLite's files */
    sqlite3 *db;
    CHECK(sqlite3_open_v2(path_join(dir, "tfaas.db"), &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    sqlite3_stmt *st;
    CHECK(sqlite3_prepare_v2(db, "SELECT length(key_hash) FROM namespaces WHERE name='alice'", -1, &st, NULL) ==
          SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 32);
    sqlite3_finalize(st);
    sqlite3_close(db);
    const char *files[] = {"tfaas.db", "tfaas.db-wal"};
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(path_join(dir, files[i]), "rb");
        if (!f) continue;
        static char buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        CHECK(memmem(buf, n, key, 64) == NULL);
    }
}

static const char *code_of(json_t *doc) {
    return json_string_value(json_object_get(json_object_get(doc, "exec"), "code"));
}

static void test_actions(store *s) {
    json_t *doc = action_doc("function main() { return {}; }"), *stored = NULL, *got = NULL;
    CHECK(store_action_put(s, "alice", "hello", doc, 0, &stored) == STORE_OK && stored);
    CHECK_STR(json_string_value(json_object_get(stored, "version")), "0.0.1");
    CHECK_STR(json_string_value(json_object_get(stored, "namespace")), "alice");
    CHECK_STR(json_string_value(json_object_get(stored, "name")), "hello");
    CHECK(json_is_false(json_object_get(stored, "publish")));
    CHECK(json_integer_value(json_object_get(stored, "updated")) > 1600000000000LL);
    CHECK(json_integer_value(json_object_get(json_object_get(stored, "limits"), "memory")) == 256);
    json_decref(stored);

    CHECK(store_action_put(s, "alice", "hello", doc, 0, NULL) == STORE_CONFLICT);
    for (int i = 2; i <= 11; i++) CHECK(store_action_put(s, "alice", "hello", doc, 1, NULL) == STORE_OK);
    CHECK(store_action_get(s, "alice", "hello", &got) == STORE_OK);
    CHECK_STR(json_string_value(json_object_get(got, "version")), "0.0.11"); /* 0.0.9 -> 0.0.10 -> 0.0.11 */
    CHECK_STR(code_of(got), "function main() { return {}; }");
    json_decref(got);
    json_decref(doc);

    CHECK(store_action_get(s, "alice", "missing", &got) == STORE_NOT_FOUND && !got);
    CHECK(store_action_get(s, "bob", "hello", &got) == STORE_NOT_FOUND); /* another namespace */
    doc = action_doc("x");
    CHECK(store_action_put(s, "no-such-namespace", "a", doc, 0, NULL) == STORE_NOT_FOUND);
    json_t *notobj = json_string("nope");
    CHECK(store_action_put(s, "alice", "bad", notobj, 0, NULL) == STORE_ERROR);
    json_decref(notobj);

    /* Order: newest update first; an update moves an action to the front. */
    CHECK(store_action_put(s, "bob", "a", doc, 0, NULL) == STORE_OK);
    CHECK(store_action_put(s, "bob", "b", doc, 0, NULL) == STORE_OK);
    CHECK(store_action_put(s, "bob", "c", doc, 0, NULL) == STORE_OK);
    json_t *list = NULL;
    CHECK(store_action_list(s, "bob", 0, 0, &list) == STORE_OK && json_array_size(list) == 3);
    const char *want1[] = {"c", "b", "a"};
    for (int i = 0; i < 3 && list; i++)
        CHECK_STR(json_string_value(json_object_get(json_array_get(list, (size_t)i), "name")), want1[i]);
    json_decref(list);
    CHECK(store_action_put(s, "bob", "a", doc, 1, NULL) == STORE_OK);
    CHECK(store_action_list(s, "bob", 2, 1, &list) == STORE_OK && json_array_size(list) == 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(list, 0), "name")), "c");
    CHECK_STR(json_string_value(json_object_get(json_array_get(list, 1), "name")), "b");
    /* List entries keep exec.kind and exec.binary but not the code. */
    json_t *exec = json_object_get(json_array_get(list, 0), "exec");
    CHECK(exec && !json_object_get(exec, "code"));
    CHECK_STR(json_string_value(json_object_get(exec, "kind")), "js:duktape");
    CHECK(json_is_false(json_object_get(exec, "binary")));
    CHECK_STR(json_string_value(json_object_get(json_array_get(list, 0), "version")), "0.0.1");
    json_decref(list);
    CHECK(store_action_list(s, "bob", 10, 3, &list) == STORE_OK && json_array_size(list) == 0);
    json_decref(list);
    CHECK(store_action_list(s, "nobody", 10, 0, &list) == STORE_OK && json_array_size(list) == 0);
    json_decref(list);

    json_t *deleted = NULL;
    CHECK(store_action_delete(s, "bob", "b", &deleted) == STORE_OK && deleted);
    CHECK_STR(code_of(deleted), "x");
    json_decref(deleted);
    CHECK(store_action_delete(s, "bob", "b", &deleted) == STORE_NOT_FOUND && !deleted);
    CHECK(store_action_get(s, "bob", "b", &got) == STORE_NOT_FOUND);
    CHECK(store_action_delete(s, "alice", "a", NULL) == STORE_NOT_FOUND); /* bob's, not alice's */
    json_decref(doc);
}

/* Names are bound parameters: quotes, SQL, format strings, UTF-8 and sizes
 * go in and come out byte for byte. */
static void test_hostile_names(store *s) {
    static char longname[20001];
    memset(longname, 'n', sizeof longname - 1);
    const char *names[] = {"it's", "\"; DROP TABLE actions; --", "' OR '1'='1", "%s%n%x", "ünïcødé 名前 🎉",
                           "", "a\tb\nc\\d", "..\\..\\etc\\passwd", "NULL", "*", longname};
    size_t n = sizeof names / sizeof names[0];
    CHECK(store_namespace_create(s, "'; DELETE FROM namespaces; --", "hostile-uuid", "k", NULL, NULL) == STORE_OK);
    char ns[64];
    CHECK(store_authenticate(s, "hostile-uuid", "k", ns, sizeof ns, NULL) == STORE_OK);
    CHECK_STR(ns, "'; DELETE FROM namespaces; --");
    json_t *doc = action_doc("code with 'quotes' and \"doubles\" and \\u0000");
    for (size_t i = 0; i < n; i++) {
        json_t *got = NULL;
        CHECK(store_action_put(s, ns, names[i], doc, 0, NULL) == STORE_OK);
        CHECK(store_action_get(s, ns, names[i], &got) == STORE_OK);
        CHECK_STR(json_string_value(json_object_get(got, "name")), names[i]);
        CHECK_STR(json_string_value(json_object_get(got, "namespace")), ns);
        json_decref(got);
    }
    json_t *list = NULL;
    CHECK(store_action_list(s, ns, 0, 0, &list) == STORE_OK && json_array_size(list) == n);
    json_decref(list);
    /* Other namespaces saw nothing of it. */
    CHECK(store_action_list(s, "alice", 0, 0, &list) == STORE_OK && json_array_size(list) == 1);
    json_decref(list);
    /* Bytes that are not UTF-8 cannot be a JSON name: a clear error, no crash. */
    CHECK(store_action_put(s, ns, "\xff\xfe bad", doc, 0, NULL) == STORE_ERROR);
    CHECK(store_last_error()[0] != '\0');
    json_decref(doc);
}

/* A committed callback that keeps the status for the test to poll. */
static void on_status(void *ud, store_status st) {
    __atomic_store_n((store_status *)ud, st, __ATOMIC_RELEASE);
}

static void test_delete_cascade(store *s) {
    json_t *doc = action_doc("y");
    char u0[STORE_UUID_LEN + 1], k0[STORE_KEY_LEN + 1], ns0[64], id0[STORE_NSID_LEN + 1];
    CHECK(store_namespace_create(s, "doomed", NULL, NULL, u0, k0) == STORE_OK);
    CHECK(store_authenticate(s, u0, k0, ns0, sizeof ns0, id0) == STORE_OK && strlen(id0) == STORE_NSID_LEN);
    CHECK(store_namespace_alive(s, "doomed", id0) == STORE_OK);
    CHECK(store_action_put(s, "doomed", "f", doc, 0, NULL) == STORE_OK);
    CHECK(store_action_put(s, "alice", "f", doc, 0, NULL) == STORE_OK);
    json_decref(doc);
    store_activation_put(s, make_activation("doomed", "f", "act-doomed", 1000, "success"), NULL, NULL, NULL);
    store_activation_put(s, make_activation("alice", "f", "act-alice", 1000, "success"), NULL, NULL, NULL);
    /* The writer is asynchronous: wait until both are visible. */
    json_t *got = NULL;
    for (int i = 0; i < 500; i++) {
        if (store_activation_get(s, "doomed", "act-doomed", &got) == STORE_OK) break;
        usleep(10000);
    }
    CHECK(got != NULL);
    json_decref(got);
    got = NULL;
    for (int i = 0; i < 500 && store_activation_get(s, "alice", "act-alice", &got) != STORE_OK; i++) usleep(10000);
    json_decref(got);

    CHECK(store_namespace_delete(s, "doomed") == STORE_OK);
    CHECK(store_namespace_delete(s, "doomed") == STORE_NOT_FOUND);
    CHECK(store_action_get(s, "doomed", "f", &got) == STORE_NOT_FOUND);
    CHECK(store_activation_get(s, "doomed", "act-doomed", &got) == STORE_NOT_FOUND);
    CHECK(store_action_get(s, "alice", "f", &got) == STORE_OK);
    json_decref(got);
    CHECK(store_activation_get(s, "alice", "act-alice", &got) == STORE_OK);
    json_decref(got);
    /* Recreating the name starts empty, with a new credential. */
    char u[STORE_UUID_LEN + 1], k[STORE_KEY_LEN + 1], ns[64], id[STORE_NSID_LEN + 1];
    CHECK(store_namespace_create(s, "doomed", NULL, NULL, u, k) == STORE_OK);
    CHECK(store_authenticate(s, u, k, ns, sizeof ns, id) == STORE_OK);
    json_t *list = NULL;
    CHECK(store_action_list(s, "doomed", 0, 0, &list) == STORE_OK && json_array_size(list) == 0);
    json_decref(list);
    /* ... and is another namespace: a new id; the old one is gone for good. */
    CHECK(strcmp(id, id0) != 0);
    CHECK(store_namespace_alive(s, "doomed", id0) == STORE_NOT_FOUND);
    CHECK(store_namespace_alive(s, "doomed", id) == STORE_OK);
    CHECK(store_authenticate(s, u0, k0, ns0, sizeof ns0, id0) == STORE_NOT_FOUND);
    /* A record the old namespace finishes late is refused, the new one's kept. */
    store_status late = STORE_ERROR, fresh = STORE_ERROR;
    store_activation_put(s, make_activation("doomed", "f", "act-late", 1000, "success"), id0, on_status, &late);
    store_activation_put(s, make_activation("doomed", "f", "act-fresh", 1000, "success"), id, on_status, &fresh);
    for (int i = 0; i < 500 && (__atomic_load_n(&late, __ATOMIC_ACQUIRE) == STORE_ERROR ||
                                __atomic_load_n(&fresh, __ATOMIC_ACQUIRE) == STORE_ERROR); i++)
        usleep(10000);
    CHECK(late == STORE_NOT_FOUND && fresh == STORE_OK);
    CHECK(store_activation_get(s, "doomed", "act-late", &got) == STORE_NOT_FOUND);
    CHECK(store_activation_get(s, "doomed", "act-fresh", &got) == STORE_OK);
    json_decref(got);
}

int main(void) {
    if (test_store_pg()) printf("skip: the state directory's files and SQLite schema upgrades (PostgreSQL)\n");
    else test_open_creates_private_dir();

    char *dir = scratch_dir("store");
    store *s = NULL;
    char *err = NULL;
    CHECK(store_open(test_store_target(dir), &s, &err) == STORE_OK);
    free(err);
    if (!s) return CHECK_DONE();
    test_namespaces(s, dir);
    test_actions(s);
    test_hostile_names(s);
    test_delete_cascade(s);
    store_close(s);

    /* Reopening finds everything as it was. */
    s = NULL;
    CHECK(store_open(test_store_target(dir), &s, &err) == STORE_OK);
    json_t *list = NULL, *got = NULL;
    CHECK(store_namespace_list(s, &list) == STORE_OK && json_array_size(list) == 4);
    json_decref(list);
    char ns[64];
    CHECK(store_authenticate(s, "11111111-2222-4333-8444-555555555555", "new-key", ns, sizeof ns, NULL) == STORE_OK);
    CHECK(store_action_get(s, "alice", "hello", &got) == STORE_OK);
    CHECK_STR(json_string_value(json_object_get(got, "version")), "0.0.11");
    json_decref(got);
    CHECK(store_activation_get(s, "alice", "act-alice", &got) == STORE_OK);
    json_decref(got);
    store_close(s);
    CHECK(db_integrity_ok(dir));
    scratch_remove(dir);
    return CHECK_DONE();
}
