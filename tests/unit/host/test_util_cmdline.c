/* test_util_cmdline.c - the option values `tfaas serve` and `tfaas runtime`
 * share: strict numbers and listen addresses. */
#include "check.h"

#include "host/util/cmdline.h"

#include <arpa/inet.h>
#include <netinet/in.h>

static void test_uint(void) {
    unsigned v = 99;
    CHECK(cmdline_uint("0", 0, 10, &v) == 0 && v == 0);
    CHECK(cmdline_uint("10", 0, 10, &v) == 0 && v == 10);
    CHECK(cmdline_uint("11", 0, 10, &v) < 0);
    CHECK(cmdline_uint("4", 5, 10, &v) < 0);
    CHECK(cmdline_uint("", 0, 10, &v) < 0);
    CHECK(cmdline_uint(NULL, 0, 10, &v) < 0);
    CHECK(cmdline_uint("-1", 0, 10, &v) < 0);
    CHECK(cmdline_uint("+1", 0, 10, &v) < 0);
    CHECK(cmdline_uint(" 1", 0, 10, &v) < 0);
    CHECK(cmdline_uint("1 ", 0, 10, &v) < 0);
    CHECK(cmdline_uint("1k", 0, 10, &v) < 0);
    CHECK(cmdline_uint("99999999999999999999999", 0, 4000000000UL, &v) < 0);
}

static void test_listen(void) {
    struct sockaddr_storage ss;
    socklen_t len;
    char host[64];
    CHECK(cmdline_listen("127.0.0.1:8080", &ss, &len, host, sizeof host) == 0);
    CHECK_STR(host, "127.0.0.1");
    CHECK(ss.ss_family == AF_INET && ntohs(((struct sockaddr_in *)&ss)->sin_port) == 8080);
    CHECK(cmdline_listen("0.0.0.0:0", &ss, &len, host, sizeof host) == 0);
    CHECK(cmdline_listen("[::1]:3233", &ss, &len, host, sizeof host) == 0);
    CHECK_STR(host, "::1");
    CHECK(ss.ss_family == AF_INET6 && ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) == 3233);
    CHECK(cmdline_listen("127.0.0.1", &ss, &len, host, sizeof host) < 0);
    CHECK(cmdline_listen("127.0.0.1:", &ss, &len, host, sizeof host) < 0);
    CHECK(cmdline_listen(":80", &ss, &len, host, sizeof host) < 0);
    CHECK(cmdline_listen("127.0.0.1:65536", &ss, &len, host, sizeof host) < 0);
    CHECK(cmdline_listen("127.0.0.1:http", &ss, &len, host, sizeof host) < 0);
    CHECK(cmdline_listen("[::1:80", &ss, &len, host, sizeof host) < 0);
    CHECK(cmdline_listen("1.2.3.4:80", &ss, &len, host, 4) < 0); /* the address does not fit host */
}

int main(void) {
    test_uint();
    test_listen();
    return CHECK_DONE();
}
