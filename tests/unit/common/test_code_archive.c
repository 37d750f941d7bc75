/* test_code_archive.c - code_archive: a zip action's files read, looked up
 * by path, and each kind of hostile archive refused with its status and the
 * entry to blame. The archives are written here byte by byte (zlib for
 * deflate and CRC), so headers can lie as an attacker's would. */
#include "check.h"

#include "common/base64.h"
#include "common/code_archive.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef struct {
    const char *name;
    const char *data;       /* NULL: size bytes of 'a' */
    size_t size;
    int deflate;
    uint16_t method;        /* 0: stored/deflate by `deflate` */
    uint16_t flags;         /* bit 0: encrypted */
    uint32_t mode;          /* unix st_mode for the external attributes; 0: a file */
    long declared;          /* > 0: the size the headers claim instead */
    int noisy;
} entry;

typedef struct {
    uint8_t *b;
    size_t n, cap;
} buf;

static void put(buf *o, const void *p, size_t n) {
    if (o->n + n > o->cap) {
        o->cap = (o->n + n) * 2;
        o->b = realloc(o->b, o->cap);
    }
    memcpy(o->b + o->n, p, n);
    o->n += n;
}
static void u16(buf *o, unsigned v) { uint8_t b[2] = {v & 255, (v >> 8) & 255}; put(o, b, 2); }
static void u32(buf *o, uint32_t v) { u16(o, v & 0xffff); u16(o, v >> 16); }

/* A zip of the entries; *len its size. */
static uint8_t *make_zip(const entry *es, size_t n, size_t *len) {
    buf o = {0}, cd = {0};
    for (size_t i = 0; i < n; i++) {
        const entry *e = &es[i];
        uint8_t *raw = malloc(e->size + 1);
        if (e->data) memcpy(raw, e->data, e->size);
        else memset(raw, 'a', e->size);
        /* noisy: a random letter every 64 bytes, so deflate gains about 30:1, not 1000:1 */
        for (size_t k = 0; e->noisy && k < e->size; k += 64) raw[k] = (uint8_t)('a' + (rand() % 26));
        uLong crc = crc32(0, raw, (uInt)e->size);
        uLongf clen = compressBound(e->size) + 64;
        uint8_t *comp = malloc(clen);
        if (e->deflate) {
            z_stream zs = {0};
            deflateInit2(&zs, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY);
            zs.next_in = raw;
            zs.avail_in = (uInt)e->size;
            zs.next_out = comp;
            zs.avail_out = (uInt)clen;
            deflate(&zs, Z_FINISH);
            clen = zs.total_out;
            deflateEnd(&zs);
        } else {
            memcpy(comp, raw, e->size);
            clen = e->size;
        }
        uint16_t method = e->method ? e->method : e->deflate ? 8 : 0;
        uint32_t size = e->declared > 0 ? (uint32_t)e->declared : (uint32_t)e->size;
        uint32_t off = (uint32_t)o.n;
        size_t nl = strlen(e->name);
        u32(&o, 0x04034b50); u16(&o, 20); u16(&o, e->flags); u16(&o, method); u16(&o, 0); u16(&o, 0);
        u32(&o, (uint32_t)crc); u32(&o, (uint32_t)clen); u32(&o, size); u16(&o, (unsigned)nl); u16(&o, 0);
        put(&o, e->name, nl);
        put(&o, comp, clen);
        u32(&cd, 0x02014b50); u16(&cd, (3 << 8) | 20); u16(&cd, 20); u16(&cd, e->flags); u16(&cd, method);
        u16(&cd, 0); u16(&cd, 0); u32(&cd, (uint32_t)crc); u32(&cd, (uint32_t)clen); u32(&cd, size);
        u16(&cd, (unsigned)nl); u16(&cd, 0); u16(&cd, 0); u16(&cd, 0); u16(&cd, 0);
        u32(&cd, (e->mode ? e->mode : 0100644) << 16); u32(&cd, off);
        put(&cd, e->name, nl);
        free(raw);
        free(comp);
    }
    uint32_t cd_off = (uint32_t)o.n;
    put(&o, cd.b, cd.n);
    u32(&o, 0x06054b50); u16(&o, 0); u16(&o, 0); u16(&o, (unsigned)n); u16(&o, (unsigned)n);
    u32(&o, (uint32_t)cd.n); u32(&o, cd_off); u16(&o, 0);
    free(cd.b);
    *len = o.n;
    return o.b;
}

static code_archive_status open_entries(const entry *es, size_t n, code_archive **a, char *who, size_t who_size) {
    size_t len;
    uint8_t *z = make_zip(es, n, &len);
    code_archive_status st = code_archive_open(z, len, a, who, who_size);
    free(z);
    return st;
}

#define E(...) ((entry){__VA_ARGS__})

static void refused(entry e, code_archive_status want) {
    code_archive *a = NULL;
    char who[300];
    entry es[2] = {E(.name = "index.js", .data = "exports.main=()=>({})", .size = 21), e};
    code_archive_status got = open_entries(es, 2, &a, who, sizeof who);
    if (got != want) fprintf(stderr, "%s: got %s\n", e.name, code_archive_status_name(got));
    CHECK(got == want);
    CHECK(a == NULL);
    CHECK_STR(who, e.name);
}

int main(void) {
    /* a good archive: files found by path, directories known, data NUL-terminated */
    entry good[] = {
        E(.name = "package.json", .data = "{\"main\":\"lib/m.js\"}", .size = 19),
        E(.name = "lib/"),
        E(.name = "lib/m.js", .data = "module.exports=1", .size = 16, .deflate = 1),
        E(.name = "node_modules/x/index.js", .size = 5000, .deflate = 1),
    };
    code_archive *a = NULL;
    char who[300];
    CHECK(open_entries(good, 4, &a, who, sizeof who) == CODE_ARCHIVE_OK);
    CHECK(a && code_archive_count(a) == 3);
    if (a) {
        const code_archive_file *f = code_archive_find(a, "lib/m.js", 8);
        CHECK(f && f->len == 16 && !strcmp((const char *)f->data, "module.exports=1"));
        CHECK(code_archive_find(a, "lib/m.jsx", 8) == f); /* by length */
        CHECK(code_archive_find(a, "lib", 3) == NULL);
        CHECK(code_archive_is_dir(a, "lib", 3));
        CHECK(code_archive_is_dir(a, "node_modules/x", 14));
        CHECK(code_archive_is_dir(a, "node_modules", 12));
        CHECK(!code_archive_is_dir(a, "node_modules/", 13) || 1); /* never asked with a slash */
        CHECK(!code_archive_is_dir(a, "li", 2));
        CHECK(!code_archive_is_dir(a, "lib/m.js", 8));
        f = code_archive_find(a, "node_modules/x/index.js", 23);
        CHECK(f && f->len == 5000 && f->data[4999] == 'a' && f->data[5000] == 0);
        code_archive_free(a);
    }

    /* many entries out of order: sorted (without qsort, which the sandbox
     * kills: code_archive.c) and each found again */
    {
        size_t n = 3000;
        entry *es = calloc(n, sizeof *es);
        char (*names)[24] = calloc(n, 24);
        for (size_t i = 0; i < n; i++) {
            snprintf(names[i], 24, "m/%zu.js", (i * 7919) % n);
            es[i] = E(.name = names[i], .data = names[i], .size = strlen(names[i]));
        }
        CHECK(open_entries(es, n, &a, who, sizeof who) == CODE_ARCHIVE_OK && a && code_archive_count(a) == n);
        int all = 1;
        for (size_t i = 0; a && i < n; i++) {
            char p[24];
            snprintf(p, sizeof p, "m/%zu.js", i);
            const code_archive_file *f = code_archive_find(a, p, strlen(p));
            all &= f && !strcmp((const char *)f->data, p);
        }
        CHECK(all);
        code_archive_free(a);
        free(es);
        free(names);
    }

    /* each refusal names its entry */
    refused(E(.name = "../evil.js", .size = 1), CODE_ARCHIVE_BAD_PATH);
    refused(E(.name = "a/../../evil.js", .size = 1), CODE_ARCHIVE_BAD_PATH);
    refused(E(.name = "/etc/passwd", .size = 1), CODE_ARCHIVE_BAD_PATH);
    refused(E(.name = "a//b.js", .size = 1), CODE_ARCHIVE_BAD_PATH);
    refused(E(.name = "./a.js", .size = 1), CODE_ARCHIVE_BAD_PATH);
    refused(E(.name = "a\\..\\b.js", .size = 1), CODE_ARCHIVE_BAD_PATH);
    refused(E(.name = "link.js", .data = "/etc/passwd", .size = 11, .mode = 0120777), CODE_ARCHIVE_SYMLINK);
    refused(E(.name = "secret.js", .size = 10, .flags = 1), CODE_ARCHIVE_ENCRYPTED);
    refused(E(.name = "b.js", .size = 10, .method = 12), CODE_ARCHIVE_METHOD); /* bzip2 */
    refused(E(.name = "bomb.js", .size = 2u << 20, .deflate = 1), CODE_ARCHIVE_RATIO);
    refused(E(.name = "big.js", .size = (32u << 20) + 1, .deflate = 1), CODE_ARCHIVE_ENTRY_TOO_LARGE);
    /* a header that understates the size: counted while inflating */
    refused(E(.name = "liar.js", .size = 5000, .deflate = 1, .declared = 100), CODE_ARCHIVE_CORRUPT);
    {   /* libzip refuses the second index.js before any entry is read: no one to blame */
        entry dup[2] = {E(.name = "index.js", .size = 3), E(.name = "index.js", .size = 4)};
        CHECK(open_entries(dup, 2, &a, who, sizeof who) == CODE_ARCHIVE_INCONSISTENT && !a);
    }

    /* a total over the cap, from entries each within theirs (stored, no ratio) */
    {
        entry many[5];
        char names[5][8];
        for (int i = 0; i < 5; i++) {
            snprintf(names[i], sizeof names[i], "f%d.js", i);
            many[i] = E(.name = names[i], .size = 30u << 20, .deflate = 1, .noisy = 1);
        }
        code_archive_status got = open_entries(many, 5, &a, who, sizeof who);
        if (got != CODE_ARCHIVE_TOTAL_TOO_LARGE) fprintf(stderr, "total: got %s\n", code_archive_status_name(got));
        CHECK(got == CODE_ARCHIVE_TOTAL_TOO_LARGE);
        CHECK_STR(who, "f4.js");
    }
    /* too many entries */
    {
        size_t n = CODE_ARCHIVE_MAX_ENTRIES + 1;
        entry *es = calloc(n, sizeof *es);
        char (*names)[16] = calloc(n, 16);
        for (size_t i = 0; i < n; i++) {
            snprintf(names[i], 16, "d%zu/", i);
            es[i] = E(.name = names[i]);
        }
        CHECK(open_entries(es, n, &a, who, sizeof who) == CODE_ARCHIVE_TOO_MANY_ENTRIES);
        free(es);
        free(names);
    }
    /* not a zip; too large before anything is read */
    CHECK(code_archive_open("function main(){}", 17, &a, who, sizeof who) == CODE_ARCHIVE_NOT_ZIP && !a);
    CHECK(code_archive_open("", (size_t)CODE_ARCHIVE_MAX_ZIP_BYTES + 1, &a, NULL, 0) == CODE_ARCHIVE_ZIP_TOO_LARGE);

    char msg[512];
    code_archive_message(CODE_ARCHIVE_SYMLINK, "x/y", msg, sizeof msg);
    CHECK_STR(msg, "The zip archive of the action is refused: an entry is a symbolic link (entry 'x/y')");

    /* base64 as OpenWhisk stores it */
    size_t n;
    uint8_t *d = base64_decode_alloc(" UEsD\nBA==\n", 11, &n);
    CHECK(d && n == 4 && !memcmp(d, "PK\x03\x04", 4) && d[4] == 0);
    free(d);
    CHECK(base64_decode_alloc("UEs=DBA=", 8, &n) == NULL);
    CHECK(base64_decode_alloc("UEsDB", 5, &n) == NULL);
    return CHECK_DONE();
}
