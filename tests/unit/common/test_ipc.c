/* test_ipc.c - round trips and hostile frames for the IPC codec. */
#include "check.h"
#include "common/ipc.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void test_round_trip(void) {
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    ipc_writer w = {0};
    ipc_writer_begin(&w, IPC_INVOKE, 0x1122334455667788ull);
    ipc_put_str(&w, "guest/hello@0.0.1");
    ipc_put_bytes(&w, "", 0);
    ipc_put_str(&w, NULL);
    ipc_put_u64(&w, 60000);
    CHECK(ipc_writer_finish(&w) == IPC_OK);
    CHECK(ipc_send(sv[0], &w) == IPC_OK);
    ipc_writer_free(&w);

    ipc_msg m;
    CHECK(ipc_recv(sv[1], &m) == IPC_OK);
    CHECK(m.type == IPC_INVOKE);
    CHECK(m.id == 0x1122334455667788ull);
    CHECK(m.nfields == 4);
    char *key = ipc_get_str(&m, 0);
    CHECK_STR(key, "guest/hello@0.0.1");
    free(key);
    CHECK(m.fields[1].len == 0 && m.fields[2].len == 0);
    uint64_t v = 0;
    CHECK(ipc_get_u64(&m, 3, &v) == 0 && v == 60000);
    CHECK(ipc_get_u64(&m, 0, &v) == -1); /* wrong size */
    CHECK(ipc_get_u64(&m, 9, &v) == -1); /* absent */
    CHECK(ipc_get_str(&m, 9) == NULL);
    ipc_msg_free(&m);

    close(sv[0]);
    CHECK(ipc_recv(sv[1], &m) == IPC_ERR_EOF);
    close(sv[1]);
}

static void test_too_many_fields(void) {
    ipc_writer w = {0};
    ipc_writer_begin(&w, IPC_RESULT, 1);
    for (unsigned i = 0; i <= IPC_MAX_FIELDS; i++) ipc_put_u64(&w, i);
    CHECK(ipc_writer_finish(&w) != IPC_OK);
    ipc_writer_free(&w);
}

static void test_hostile_frames(void) {
    uint8_t body[64] = {IPC_VERSION, IPC_RESULT, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0};
    ipc_msg m;
    /* too short for a header */
    CHECK(ipc_decode(body, 5, &m) == IPC_ERR_TRUNCATED);
    /* declares one field but has no length for it */
    CHECK(ipc_decode(body, IPC_HEADER_LEN, &m) == IPC_ERR_TRUNCATED);
    /* field length larger than the frame */
    body[12] = 0xff; body[13] = 0xff; body[14] = 0xff; body[15] = 0x7f;
    CHECK(ipc_decode(body, 20, &m) == IPC_ERR_TRUNCATED);
    /* field length that would wrap a 32-bit offset */
    body[12] = 0xfc; body[13] = 0xff; body[14] = 0xff; body[15] = 0xff;
    CHECK(ipc_decode(body, 20, &m) == IPC_ERR_TRUNCATED);
    /* trailing garbage after the declared fields */
    body[12] = 2; body[13] = 0; body[14] = 0; body[15] = 0;
    CHECK(ipc_decode(body, 18, &m) == IPC_OK);
    CHECK(ipc_decode(body, 19, &m) == IPC_ERR_FIELDS);
    /* too many fields declared */
    body[2] = 0xff; body[3] = 0xff;
    CHECK(ipc_decode(body, 18, &m) == IPC_ERR_FIELDS);
    /* wrong version */
    body[0] = 99;
    CHECK(ipc_decode(body, 18, &m) == IPC_ERR_VERSION);

    /* a length prefix over the cap is refused before anything is allocated */
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    uint8_t huge[4] = {0xff, 0xff, 0xff, 0xff};
    CHECK(write(sv[0], huge, 4) == 4);
    CHECK(ipc_recv(sv[1], &m) == IPC_ERR_TOO_LARGE);
    /* a frame cut short by the peer closing */
    uint8_t cut[8] = {40, 0, 0, 0, IPC_VERSION, IPC_HELLO, 0, 0};
    CHECK(write(sv[0], cut, sizeof cut) == sizeof cut);
    close(sv[0]);
    CHECK(ipc_recv(sv[1], &m) == IPC_ERR_TRUNCATED);
    close(sv[1]);
}

/* ipc_try_send: whole frames when there is room, IPC_ERR_AGAIN (nothing
 * written) when the socket is full, and the stream stays in frame order. */
static void test_try_send(void) {
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    int small = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    ipc_writer w = {0};
    ipc_writer_begin(&w, IPC_INVOKE, 7);
    ipc_put_str(&w, "0123456789abcdef0123456789abcdef");
    CHECK(ipc_writer_finish(&w) == IPC_OK);
    int sent = 0;
    ipc_status st;
    while ((st = ipc_try_send(sv[0], &w)) == IPC_OK && sent < 100000) sent++;
    CHECK(st == IPC_ERR_AGAIN);
    CHECK(sent > 0);
    /* every frame that went out arrives whole */
    for (int i = 0; i < sent; i++) {
        ipc_msg m;
        CHECK(ipc_recv(sv[1], &m) == IPC_OK && m.id == 7 && m.nfields == 1);
        ipc_msg_free(&m);
    }
    CHECK(ipc_try_send(sv[0], &w) == IPC_OK); /* room again */
    close(sv[1]);
    CHECK(ipc_try_send(sv[0], &w) == IPC_ERR_IO); /* peer gone: an error, not a signal */
    ipc_writer_free(&w);
    close(sv[0]);
}

int main(void) {
    test_round_trip();
    test_try_send();
    test_too_many_fields();
    test_hostile_frames();
    return CHECK_DONE();
}
