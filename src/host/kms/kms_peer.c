/* kms_peer.c - the transfer relay's HTTP exchange through libcurl; see
 * kms_peer.h. */
#include "host/kms/kms_peer.h"

#include "common/errmsg.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *buf;
    size_t len;
    int too_large;
} sink;

static size_t on_data(char *p, size_t size, size_t n, void *ud) {
    sink *s = ud;
    size_t add = size * n;
    if (s->len + add > KMS_PEER_RESPONSE_MAX) {
        s->too_large = 1;
        return 0;
    }
    char *nb = realloc(s->buf, s->len + add + 1);
    if (!nb) return 0;
    memcpy(nb + s->len, p, add);
    s->buf = nb;
    s->len += add;
    s->buf[s->len] = 0;
    return add;
}

json_t *kms_peer_exchange(const char *base_url, const json_t *hello, char **err) {
    *err = NULL;
    size_t blen = strlen(base_url);
    while (blen && base_url[blen - 1] == '/') blen--;
    char *url = malloc(blen + sizeof KMS_PEER_PATH);
    char *body = json_dumps(hello, JSON_COMPACT);
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    sink s = {0};
    json_t *answer = NULL;
    long status = 0;
    if (!url || !body || !h || !hdr) {
        errmsg(err, "out of memory");
        goto out;
    }
    memcpy(url, base_url, blen);
    memcpy(url + blen, KMS_PEER_PATH, sizeof KMS_PEER_PATH);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, KMS_PEER_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        errmsg(err, "no answer from the key service peer %s: %s", url,
               s.too_large ? "answer too large" : curl_easy_strerror(rc));
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    json_t *j = s.buf ? json_loadb(s.buf, s.len, 0, NULL) : NULL;
    if (status == 200 && json_is_object(j)) {
        answer = j;
    } else {
        const char *why = json_string_value(json_object_get(j, "error"));
        errmsg(err, "the key service peer %s refused the transfer (HTTP %ld): %s", url, status,
               why ? why : "no error text");
        json_decref(j);
    }
out:
    curl_slist_free_all(hdr);
    if (h) curl_easy_cleanup(h);
    free(body);
    free(url);
    free(s.buf);
    return answer;
}
