/* fuzz_cli_config.c - libFuzzer target for the CLI's config file parser
 * (src/host/cli/cli_config.c: APIHOST=/AUTH= lines, like ~/.wskprops) and
 * the apihost normaliser its values go through. The file is the user's, but
 * it may be shared or written by other tools, so it is outside bytes.
 *
 * Invariants: a file with a NUL byte or over CLI_CONFIG_SIZE_MAX is refused;
 * a refusal says why and leaves no values; an accepted value is a substring
 * of the file without surrounding blanks or line breaks and no longer than
 * a line may be; a normalised apihost has a scheme, no trailing '/' and no
 * blanks or control characters. */
#include "fuzz.h"

#include "host/cli/cli_config.h"

static void check_value(const uint8_t *data, size_t size, const char *v) {
    if (!v) return;
    size_t n = strlen(v);
    FUZZ_CHECK(n <= CLI_CONFIG_LINE_MAX);
    FUZZ_CHECK(strchr(v, '\n') == NULL);
    if (n) {
        FUZZ_CHECK(v[0] != ' ' && v[0] != '\t');
        FUZZ_CHECK(v[n - 1] != ' ' && v[n - 1] != '\t' && v[n - 1] != '\r');
        FUZZ_CHECK(memmem(data, size, v, n) != NULL);
    }
    char *norm = cli_apihost_normalise(v);
    if (norm) {
        size_t m = strlen(norm);
        FUZZ_CHECK(m > 0 && norm[m - 1] != '/' && strstr(norm, "://") != NULL);
        for (const unsigned char *p = (const unsigned char *)norm; *p; p++) FUZZ_CHECK(*p > ' ' && *p != 0x7f);
        free(norm);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0; /* fmemopen refuses an empty buffer */
    FILE *f = fmemopen((void *)data, size, "rb");
    FUZZ_CHECK(f != NULL);
    struct cli_config cfg = {(char *)"stale", (char *)"stale"};
    char err[512] = "";
    int rc = cli_config_read(f, "fuzz", &cfg, err, sizeof err);
    fclose(f);
    if (rc == 0) {
        FUZZ_CHECK(memchr(data, '\0', size) == NULL);
        FUZZ_CHECK(size <= CLI_CONFIG_SIZE_MAX);
        check_value(data, size, cfg.apihost);
        check_value(data, size, cfg.auth);
        cli_config_free(&cfg);
    } else {
        FUZZ_CHECK(rc == -1 && err[0] != '\0');
        FUZZ_CHECK(cfg.apihost == NULL && cfg.auth == NULL);
    }
    return 0;
}
