/* cli_http.c - URL building and one HTTP exchange with the tfaas API through
 * libcurl (see cli_http.h). */
#include "host/cli/cli_http.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

char *cli_url_escape(const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    bool all_dots = *s != '\0' && strspn(s, ".") == strlen(s);
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1);
    if (!out) return NULL;
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (unreserved(*p) && !(all_dots && *p == '.')) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

char *cli_url_build(const char *apihost, const char *collection, const char *name,
                    const char *suffix, const char *query) {
    /* "/NS/REST" names another namespace (wsk's fully qualified names):
     * it takes the place of "_" and REST is the name. */
    const char *slash = name && name[0] == '/' ? strchr(name + 1, '/') : NULL;
    if (!slash) return cli_url_build_ns(apihost, "_", collection, name, suffix, query);
    char *ns = strndup(name + 1, (size_t)(slash - name - 1));
    char *url = ns ? cli_url_build_ns(apihost, ns, collection, slash + 1, suffix, query) : NULL;
    free(ns);
    return url;
}

char *cli_url_build_ns(const char *apihost, const char *ns, const char *collection, const char *name,
                       const char *suffix, const char *query) {
    char *ename = NULL;
    if (name && !(ename = cli_url_escape(name))) return NULL;
    char *ens = cli_url_escape(ns);
    if (!ens) {
        free(ename);
        return NULL;
    }
    size_t n = strlen(apihost) + strlen("/api/v1/namespaces//") + strlen(ens) + strlen(collection) +
               (ename ? strlen(ename) + 1 : 0) + (suffix ? strlen(suffix) + 1 : 0) +
               (query ? strlen(query) + 1 : 0) + 1;
    char *url = malloc(n);
    if (url)
        snprintf(url, n, "%s/api/v1/namespaces/%s/%s%s%s%s%s%s%s", apihost, ens, collection,
                 ename ? "/" : "", ename ? ename : "", suffix ? "/" : "", suffix ? suffix : "",
                 query ? "?" : "", query ? query : "");
    free(ename);
    free(ens);
    return url;
}

char *cli_tfaas_url(const char *apihost, const char *name, const char *suffix, const char *query) {
    return cli_tfaas_public_url(apihost, NULL, name, suffix, query);
}

char *cli_tfaas_public_url(const char *apihost, const char *ns, const char *name, const char *suffix,
                           const char *query) {
    char *esc = cli_url_escape(name), *ens = ns ? cli_url_escape(ns) : NULL, *out = NULL;
    if (esc && (!ns || ens) &&
        asprintf(&out, "%s/tfaas/v1/%s%s/actions/%s%s%s%s%s", apihost, ns ? "public/namespaces/" : "namespaces/",
                 ns ? ens : "_", esc, suffix ? "/" : "", suffix ? suffix : "", query ? "?" : "",
                 query ? query : "") < 0)
        out = NULL;
    free(esc);
    free(ens);
    return out;
}

struct sink {
    char *buf;
    size_t len, cap;
    bool too_big;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *userp) {
    struct sink *s = userp;
    size_t n = size * nmemb;
    if (s->len + n > CLI_HTTP_RESPONSE_MAX) {
        s->too_big = true;
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n + 1) cap *= 2;
        char *nb = realloc(s->buf, cap);
        if (!nb) return 0;
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return n;
}

/* Keeps the values of some response headers (the first of each name). */
struct header_catch {
    const char *const *names;
    char **values;
};

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp) {
    struct header_catch *hc = userp;
    size_t n = size * nmemb;
    for (size_t i = 0; i < CLI_HTTP_MAX_CAPTURE && hc->names[i]; i++) {
        size_t k = strlen(hc->names[i]);
        if (hc->values[i] || n <= k + 1 || strncasecmp(data, hc->names[i], k) != 0 || data[k] != ':') continue;
        const char *v = data + k + 1;
        size_t vlen = n - k - 1;
        while (vlen && (*v == ' ' || *v == '\t')) { v++; vlen--; }
        while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' ')) vlen--;
        hc->values[i] = strndup(v, vlen);
    }
    return n;
}

int cli_http_request(const char *method, const char *url, const char *auth,
                     const char *body, long timeout_s, struct cli_http_response *resp,
                     char *err, size_t errlen) {
    struct cli_http_opts o = {.content_type = "application/json", .accept = "application/json",
                              .body = body, .body_len = body ? strlen(body) : 0};
    return cli_http_request_ex(method, url, auth, &o, timeout_s, resp, err, errlen);
}

int cli_http_request_ex(const char *method, const char *url, const char *auth, const struct cli_http_opts *o,
                        long timeout_s, struct cli_http_response *resp, char *err, size_t errlen) {
    resp->status = 0;
    resp->body = NULL;
    resp->len = 0;
    memset(resp->captured, 0, sizeof resp->captured);
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(err, errlen, "cannot initialise libcurl");
        return -1;
    }
    struct sink sink = {NULL, 0, 0, false};
    struct header_catch hc = {o->capture, resp->captured};
    struct curl_slist *headers = NULL, *tmp;
    char accept[128], ctype[128];
    snprintf(accept, sizeof accept, "Accept: %s", o->accept ? o->accept : "application/json");
    snprintf(ctype, sizeof ctype, "Content-Type: %s", o->content_type ? o->content_type : "application/json");
    const char *hdrs[] = {accept, ctype, "Expect:"};
    for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++) {
        if (!(tmp = curl_slist_append(headers, hdrs[i]))) {
            curl_slist_free_all(headers);
            curl_easy_cleanup(h);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        headers = tmp;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "tfaas-cli");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CLI_HTTP_CONNECT_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (auth) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERPWD, auth);
    }
    if (o->body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, o->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
    }
    if (o->capture[0]) {
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &hc);
    }
    CURLcode rc = curl_easy_perform(h);
    int ret = 0;
    if (rc != CURLE_OK) {
        if (sink.too_big)
            snprintf(err, errlen, "response larger than %zu MiB", CLI_HTTP_RESPONSE_MAX >> 20);
        else
            snprintf(err, errlen, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
        free(sink.buf);
        for (size_t i = 0; i < CLI_HTTP_MAX_CAPTURE; i++) {
            free(resp->captured[i]);
            resp->captured[i] = NULL;
        }
        ret = -1;
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
        if (!sink.buf && !(sink.buf = calloc(1, 1))) {
            snprintf(err, errlen, "out of memory");
            ret = -1;
        } else {
            resp->body = sink.buf;
            resp->len = sink.len;
        }
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    return ret;
}

void cli_http_response_free(struct cli_http_response *resp) {
    free(resp->body);
    for (size_t i = 0; i < CLI_HTTP_MAX_CAPTURE; i++) {
        free(resp->captured[i]);
        resp->captured[i] = NULL;
    }
    resp->body = NULL;
    resp->len = 0;
}
