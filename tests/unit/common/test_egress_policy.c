/* test_egress_policy.c - fetch's egress policies: parsing and its refusals,
 * URL checks (names, suffixes, ports, schemes), address checks (every
 * special-purpose range refused unless named by address or CIDR, IPv4
 * mapped into IPv6 included), and narrowing by a second policy. */
#include "check.h"

#include "common/egress_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static int parse1(const char *json, egress_policies *ps) {
    char *text = NULL;
    if (asprintf(&text, "[%s]", json) < 0) return -1;
    char *err = NULL;
    int rc = egress_policies_parse(text, strlen(text), ps, &err);
    free(err);
    free(text);
    return rc;
}

static egress_verdict addr(const egress_policies *ps, const char *ip, int port) {
    struct sockaddr_in s4 = {.sin_family = AF_INET};
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
    if (inet_pton(AF_INET, ip, &s4.sin_addr) == 1) return egress_check_addr(ps, (struct sockaddr *)&s4, port, 1);
    if (inet_pton(AF_INET6, ip, &s6.sin6_addr) == 1) return egress_check_addr(ps, (struct sockaddr *)&s6, port, 1);
    return (egress_verdict)-1;
}

static void test_parse(void) {
    egress_policies ps;
    static const char *const bad[] = {
        "[]", "{\"allow\": \"x\"}", "{\"allow\": [1]}", "{\"allow\": [\"a b\"]}", "{\"allow\": [\"a:0\"]}",
        "{\"allow\": [\"a:65536\"]}", "{\"allow\": [\"10.0.0.0/33\"]}", "{\"allow\": [\"[::1\"]}",
        "{\"allow\": [\"host/8\"]}", "{\"http\": 1}", "{\"ca\": \"not pem\"}", "{\"maxBytes\": -1}",
        "{\"allowed\": []}", "{\"allow\": [], \"allow\": []}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = parse1(bad[i], &ps);
        CHECK(rc == -1);
        if (rc == 0) fprintf(stderr, "accepted: %s\n", bad[i]);
        if (rc == 0) egress_policies_free(&ps);
    }
    char *err = NULL;
    CHECK(egress_policies_parse("[{},{},{}]", 10, &ps, &err) == -1 && err);
    free(err);
    CHECK(parse1(EGRESS_DEFAULT_POLICY, &ps) == 0);
    CHECK(egress_max_connections(&ps) == EGRESS_DEFAULT_CONNECTIONS);
    CHECK(egress_max_bytes(&ps) == EGRESS_DEFAULT_BYTES);
    egress_policies_free(&ps);
}

static void test_urls(void) {
    egress_policies ps;
    CHECK(parse1("{\"allow\": [\"api.example.com\", \"*.example.org:8443\", \"any.example.net:*\", "
                 "\"203.0.113.7\", \"10.1.0.0/16:5432\", \"[2001:db8::1]:443\"]}", &ps) == 0);
    CHECK(egress_check_url(&ps, "https", "api.example.com", 443) == EGRESS_OK);
    CHECK(egress_check_url(&ps, "https", "API.Example.COM", 443) == EGRESS_OK);
    CHECK(egress_check_url(&ps, "https", "api.example.com", 8443) == EGRESS_PORT);
    CHECK(egress_check_url(&ps, "http", "api.example.com", 80) == EGRESS_SCHEME);
    CHECK(egress_check_url(&ps, "ftp", "api.example.com", 21) == EGRESS_SCHEME);
    CHECK(egress_check_url(&ps, "https", "evil-api.example.com", 443) == EGRESS_HOST);
    CHECK(egress_check_url(&ps, "https", "a.b.example.org", 8443) == EGRESS_OK);
    CHECK(egress_check_url(&ps, "https", "example.org", 8443) == EGRESS_HOST); /* *.x is below x only */
    CHECK(egress_check_url(&ps, "https", "badexample.org", 8443) == EGRESS_HOST);
    CHECK(egress_check_url(&ps, "https", "any.example.net", 1) == EGRESS_OK);
    CHECK(egress_check_url(&ps, "https", "203.0.113.7", 443) == EGRESS_OK);
    CHECK(egress_check_url(&ps, "https", "203.0.113.8", 443) == EGRESS_HOST);
    CHECK(egress_check_url(&ps, "https", "10.1.200.3", 5432) == EGRESS_OK);
    CHECK(egress_check_url(&ps, "https", "10.2.0.1", 5432) == EGRESS_ADDRESS);
    CHECK(egress_check_url(&ps, "https", "2001:db8::1", 443) == EGRESS_OK);
    CHECK(egress_check_url(&ps, "https", "127.0.0.1", 443) == EGRESS_ADDRESS);
    egress_policies_free(&ps);
    /* "*" is any name and any public address, never a special one */
    CHECK(parse1("{\"allow\": [\"*\"], \"http\": true}", &ps) == 0);
    CHECK(egress_check_url(&ps, "http", "example.com", 80) == EGRESS_OK);
    CHECK(egress_check_url(&ps, "http", "example.com", 8080) == EGRESS_PORT);
    CHECK(egress_check_url(&ps, "https", "8.8.8.8", 443) == EGRESS_OK);
    CHECK(egress_check_url(&ps, "https", "169.254.169.254", 443) == EGRESS_ADDRESS);
    CHECK(egress_check_url(&ps, "https", "::ffff:127.0.0.1", 443) == EGRESS_ADDRESS);
    egress_policies_free(&ps);
    CHECK(parse1("{}", &ps) == 0);
    CHECK(egress_check_url(&ps, "https", "example.com", 443) == EGRESS_HOST);
    egress_policies_free(&ps);
}

static void test_addresses(void) {
    egress_policies ps;
    CHECK(parse1("{\"allow\": [\"*\", \"127.0.0.1:8443\", \"10.0.0.0/8:*\"]}", &ps) == 0);
    static const char *const special[] = {
        "0.0.0.0", "127.0.0.2", "169.254.169.254", "172.16.0.1", "172.31.255.255", "192.168.0.1", "100.64.0.1",
        "224.0.0.1", "255.255.255.255", "::", "::1", "fe80::1", "fd00:ec2::254", "ff02::1", "::ffff:192.168.1.1",
        "64:ff9b::a00:1", "2002:7f00:1::",
    };
    for (size_t i = 0; i < sizeof special / sizeof *special; i++) {
        egress_verdict v = addr(&ps, special[i], 443);
        CHECK(v == EGRESS_ADDRESS);
        if (v != EGRESS_ADDRESS) fprintf(stderr, "not special: %s\n", special[i]);
    }
    CHECK(addr(&ps, "127.0.0.1", 8443) == EGRESS_OK);
    CHECK(addr(&ps, "127.0.0.1", 443) == EGRESS_PORT);
    CHECK(addr(&ps, "::ffff:127.0.0.1", 8443) == EGRESS_OK); /* the mapped form is the same address */
    CHECK(addr(&ps, "10.9.8.7", 22) == EGRESS_OK);
    CHECK(addr(&ps, "93.184.216.34", 443) == EGRESS_OK);
    CHECK(addr(&ps, "172.32.0.1", 443) == EGRESS_OK);
    CHECK(addr(&ps, "2606:2800:220:1::1", 443) == EGRESS_OK);
    egress_policies_free(&ps);
}

static void test_narrowing(void) {
    egress_policies ps;
    char *err = NULL;
    const char *two = "[{\"allow\": [\"*\", \"10.0.0.0/8\"], \"maxConnections\": 5},"
                      " {\"allow\": [\"api.example.com\", \"10.0.0.1\"], \"maxBytes\": 10}]";
    CHECK(egress_policies_parse(two, strlen(two), &ps, &err) == 0);
    CHECK(egress_check_url(&ps, "https", "api.example.com", 443) == EGRESS_OK);
    CHECK(egress_check_url(&ps, "https", "other.example.com", 443) == EGRESS_HOST);
    CHECK(egress_check_url(&ps, "https", "10.0.0.1", 443) == EGRESS_OK);
    CHECK(egress_check_url(&ps, "https", "10.0.0.2", 443) == EGRESS_ADDRESS);
    CHECK(egress_max_connections(&ps) == 5 && egress_max_bytes(&ps) == 10);
    egress_policies_free(&ps);
    /* an action cannot widen: its private range still needs the namespace's */
    const char *wide = "[{\"allow\": [\"*\"]}, {\"allow\": [\"*\", \"192.168.0.0/16:*\"]}]";
    CHECK(egress_policies_parse(wide, strlen(wide), &ps, &err) == 0);
    CHECK(egress_check_url(&ps, "https", "192.168.1.1", 443) == EGRESS_ADDRESS);
    CHECK(addr(&ps, "192.168.1.1", 443) == EGRESS_ADDRESS);
    egress_policies_free(&ps);
    CHECK(strcmp(egress_verdict_name(EGRESS_ADDRESS), "address") == 0);
}

int main(void) {
    test_parse();
    test_urls();
    test_addresses();
    test_narrowing();
    return CHECK_DONE();
}
