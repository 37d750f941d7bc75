/* test_cli_url.c - the client's URLs: OpenWhisk paths under the `_`
 * namespace, names percent-encoded into exactly one path segment; and the
 * transport error when nothing listens. */
#include "check.h"
#include "host/cli/cli_http.h"

#include <stdlib.h>

static void check_escape(const char *in, const char *want) {
    char *s = cli_url_escape(in);
    CHECK_STR(s, want);
    free(s);
}

static void check_url(const char *coll, const char *name, const char *suffix, const char *query,
                      const char *want) {
    char *u = cli_url_build("http://h:1", coll, name, suffix, query);
    CHECK_STR(u, want);
    free(u);
}

int main(void) {
    check_escape("hello", "hello");
    check_escape("a-b_c.d~e9", "a-b_c.d~e9");
    check_escape("my action", "my%20action");
    check_escape("pkg/act", "pkg%2Fact");
    check_escape("q?x=1&y#z", "q%3Fx%3D1%26y%23z");
    check_escape("100%", "100%25");
    check_escape("\xc3\xa9", "%C3%A9");
    check_escape("..", "%2E%2E");
    check_escape(".", "%2E");
    check_escape("a..b", "a..b");
    check_escape("", "");

    check_url("actions", NULL, NULL, NULL, "http://h:1/api/v1/namespaces/_/actions");
    check_url("actions", NULL, NULL, "limit=5&skip=2",
              "http://h:1/api/v1/namespaces/_/actions?limit=5&skip=2");
    check_url("actions", "hello", NULL, "blocking=true&result=true",
              "http://h:1/api/v1/namespaces/_/actions/hello?blocking=true&result=true");
    check_url("actions", "a b/c", NULL, NULL, "http://h:1/api/v1/namespaces/_/actions/a%20b%2Fc");
    /* a fully qualified name addresses its namespace */
    check_url("actions", "/whisk.system/utils/echo", NULL, NULL,
              "http://h:1/api/v1/namespaces/whisk.system/actions/utils%2Fecho");
    check_url("packages", "/a b/p", NULL, NULL, "http://h:1/api/v1/namespaces/a%20b/packages/p");
    check_url("actions", "/..", NULL, NULL, "http://h:1/api/v1/namespaces/_/actions/%2F..");
    check_url("activations", "0123abcd", "logs", NULL,
              "http://h:1/api/v1/namespaces/_/activations/0123abcd/logs");
    check_url("activations", "../x", "result", NULL,
              "http://h:1/api/v1/namespaces/_/activations/..%2Fx/result");

    /* Port 1 on loopback: nothing listens, so no HTTP response at all. */
    struct cli_http_response r;
    char err[256] = "";
    CHECK(cli_http_request("GET", "http://127.0.0.1:1/api/v1", "a:b", NULL, 5, &r, err,
                           sizeof err) == -1);
    CHECK(r.body == NULL && r.status == 0);
    CHECK(err[0] != '\0');
    CHECK(cli_http_request("GET", "ftp://127.0.0.1:1/", NULL, NULL, 5, &r, err, sizeof err) == -1);
    return CHECK_DONE();
}
