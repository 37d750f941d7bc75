/* test_cli_pin.c - the client's pins of confidential functions: no file,
 * a pin saved and loaded back, a second function and a replacement kept
 * apart, the directory made on first save, and malformed files or pins
 * refused with a reason rather than taken as "nothing pinned". */
#include "check.h"
#include "host/cli/cli_pin.h"
#include "scratch.h"

#include <stdio.h>
#include <string.h>

static const char *H = "aa112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

int main(void) {
    char *dir = scratch_dir("pin");
    char path[1024], bad[1024], err[256];
    snprintf(path, sizeof path, "%s", path_join(dir, "sub/function-pins.json"));
    snprintf(bad, sizeof bad, "%s", path_join(dir, "bad.json"));
    struct cli_fn_expect e = {0};

    CHECK(cli_fn_pin_load(path, "f", &e, err, sizeof err) == 1); /* no file yet */
    struct cli_fn_expect f1 = {.ns = "guest", .name = "f", .code_hash = (char *)H, .version = 3};
    CHECK(cli_fn_pin_save(path, "f", &f1, err, sizeof err) == 0); /* makes sub/ */
    CHECK(cli_fn_pin_load(path, "f", &e, err, sizeof err) == 0);
    CHECK_STR(e.ns, "guest");
    CHECK_STR(e.name, "f");
    CHECK_STR(e.code_hash, H);
    CHECK(e.version == 3);
    cli_fn_expect_free(&e);
    CHECK(cli_fn_pin_load(path, "g", &e, err, sizeof err) == 1);

    /* another function beside it, then a newer deploy of the first */
    struct cli_fn_expect g1 = {.ns = "guest", .name = "g", .code_hash = (char *)H, .version = 1};
    CHECK(cli_fn_pin_save(path, "g", &g1, err, sizeof err) == 0);
    f1.version = 4;
    CHECK(cli_fn_pin_save(path, "f", &f1, err, sizeof err) == 0);
    CHECK(cli_fn_pin_load(path, "f", &e, err, sizeof err) == 0 && e.version == 4);
    cli_fn_expect_free(&e);
    CHECK(cli_fn_pin_load(path, "g", &e, err, sizeof err) == 0 && e.version == 1);
    cli_fn_expect_free(&e);

    /* malformed: not JSON, no "functions", a pin with a short hash or no version */
    const char *texts[] = {
        "not json", "{}", "{\"functions\": []}",
        "{\"functions\": {\"f\": {\"namespace\": \"g\", \"name\": \"f\", \"code_hash\": \"aa\", \"version\": 1}}}",
        "{\"functions\": {\"f\": {\"namespace\": \"g\", \"name\": \"f\", \"code_hash\": \"" "aa112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" "\"}}}",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        write_text(bad, texts[i]);
        err[0] = 0;
        CHECK(cli_fn_pin_load(bad, "f", &e, err, sizeof err) == -1 && strstr(err, "malformed"));
        CHECK(e.ns == NULL && e.code_hash == NULL);
    }
    /* a malformed pin is replaced by a save; a file that is not a pin file
     * is not overwritten */
    CHECK(cli_fn_pin_save(bad, "f", &f1, err, sizeof err) == 0);
    CHECK(cli_fn_pin_load(bad, "f", &e, err, sizeof err) == 0 && e.version == 4);
    cli_fn_expect_free(&e);
    write_text(bad, "not json");
    CHECK(cli_fn_pin_save(bad, "f", &f1, err, sizeof err) == -1 && strstr(err, "malformed"));

    scratch_remove(dir);
    return CHECK_DONE();
}
