/* fuzz_ipc.c - libFuzzer target for the IPC frame decoder (src/common/ipc.c),
 * which both the host (frames from an enclave running tenant code) and the
 * enclave (frames from the host) apply to bytes from the other side.
 *
 * Invariants: every decoded field lies inside the frame and the fields with
 * their length prefixes cover it exactly; re-encoding a decoded message with
 * ipc_writer gives back the input byte for byte; the accessors agree with
 * the field they read. */
#include "fuzz.h"

#include "common/ipc.h"

static void check_fields(const uint8_t *data, size_t size, const ipc_msg *m) {
    size_t covered = IPC_HEADER_LEN;
    FUZZ_CHECK(m->nfields <= IPC_MAX_FIELDS);
    for (unsigned i = 0; i < m->nfields; i++) {
        const ipc_field *f = &m->fields[i];
        FUZZ_CHECK(f->ptr >= data + IPC_HEADER_LEN + 4);
        FUZZ_CHECK(f->len <= size && (size_t)(f->ptr - data) <= size - f->len);
        covered += 4 + (size_t)f->len;

        uint64_t v;
        int got = ipc_get_u64(m, i, &v);
        FUZZ_CHECK((got == 0) == (f->len == 8));
        if (got == 0) FUZZ_CHECK(v == fuzz_le64(f->ptr));
        char *s = ipc_get_str(m, i);
        FUZZ_CHECK(s != NULL);
        FUZZ_CHECK(s[f->len] == '\0' && (f->len == 0 || memcmp(s, f->ptr, f->len) == 0));
        free(s);
    }
    FUZZ_CHECK(covered == size);
    uint64_t v;
    FUZZ_CHECK(ipc_get_u64(m, m->nfields, &v) < 0 && ipc_get_str(m, m->nfields) == NULL);
}

/* Encodes m again; the frame must be the u32 length followed by the input. */
static void check_roundtrip(const uint8_t *data, size_t size, const ipc_msg *m) {
    ipc_writer w = {0};
    ipc_writer_begin(&w, (ipc_type)m->type, m->id);
    for (unsigned i = 0; i < m->nfields; i++) ipc_put_bytes(&w, m->fields[i].ptr, m->fields[i].len);
    FUZZ_CHECK(ipc_writer_finish(&w) == IPC_OK);
    FUZZ_CHECK(w.len == size + 4);
    FUZZ_CHECK(w.data[0] == (uint8_t)size && w.data[1] == (uint8_t)(size >> 8) &&
               w.data[2] == (uint8_t)(size >> 16) && w.data[3] == (uint8_t)(size >> 24));
    FUZZ_CHECK(memcmp(w.data + 4, data, size) == 0);

    ipc_msg again;
    FUZZ_CHECK(ipc_decode(w.data + 4, w.len - 4, &again) == IPC_OK);
    FUZZ_CHECK(again.type == m->type && again.id == m->id && again.nfields == m->nfields);
    ipc_writer_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *body = fuzz_bytes(data, size);

    ipc_msg m;
    ipc_status st = ipc_decode(body, size, &m);
    FUZZ_CHECK(ipc_status_str(st) != NULL);
    if (st == IPC_OK) {
        FUZZ_CHECK(size >= IPC_HEADER_LEN && size <= IPC_MAX_FRAME);
        FUZZ_CHECK(m.buf == NULL);
        check_fields(body, size, &m);
        check_roundtrip(body, size, &m);
    } else {
        FUZZ_CHECK(st == IPC_ERR_TRUNCATED || st == IPC_ERR_TOO_LARGE || st == IPC_ERR_VERSION ||
                   st == IPC_ERR_FIELDS);
    }
    free(body);
    return 0;
}
