/* test_ipc.c - round trips and hostile frames for the IPC codec. */
#include "check.h"
#include "common/ipc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
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

/* Encodes a frame with id ID and one field of N bytes into W. */
static void frame_of(ipc_writer *w, uint64_t id, size_t n) {
    char *field = malloc(n ? n : 1);
    CHECK(field != NULL);
    for (size_t i = 0; i < n; i++) field[i] = (char)('a' + (id + i) % 26);
    ipc_writer_begin(w, IPC_RESULT, id);
    ipc_put_bytes(w, field, n);
    CHECK(ipc_writer_finish(w) == IPC_OK);
    free(field);
}

static void check_frame(const ipc_msg *m, uint64_t id, size_t n) {
    CHECK(m->id == id && m->nfields == 1 && m->fields[0].len == n);
    int same = 1;
    for (size_t i = 0; i < n; i++) same &= m->fields[0].ptr[i] == (uint8_t)('a' + (id + i) % 26);
    CHECK(same);
}

/* ipc_inbuf: a burst of frames is read at once and handed out whole, in
 * order; ready() says when no read is needed; frames larger than the buffer,
 * frames split byte by byte, a truncated frame and a hostile length. */
static void test_inbuf(void) {
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    static ipc_inbuf in;
    ipc_inbuf_init(&in, sv[1]);
    CHECK(!ipc_inbuf_ready(&in) && !ipc_inbuf_pending(&in));

    /* three frames in one write: one read takes them all */
    ipc_writer w[3] = {{0}};
    size_t sizes[3] = {0, 100, 3000}, total = 0;
    uint8_t *burst = malloc(8192);
    CHECK(burst != NULL);
    for (int i = 0; i < 3; i++) {
        frame_of(&w[i], (uint64_t)i + 1, sizes[i]);
        memcpy(burst + total, w[i].data, w[i].len);
        total += w[i].len;
        ipc_writer_free(&w[i]);
    }
    CHECK(write(sv[0], burst, total) == (ssize_t)total);
    ipc_msg m;
    CHECK(ipc_inbuf_recv(&in, &m) == IPC_OK);
    check_frame(&m, 1, 0);
    ipc_msg_free(&m);
    CHECK(ipc_inbuf_ready(&in)); /* the other two came with the first */
    CHECK(ipc_inbuf_recv(&in, &m) == IPC_OK);
    check_frame(&m, 2, 100);
    ipc_msg_free(&m);
    CHECK(ipc_inbuf_ready(&in));
    CHECK(ipc_inbuf_recv(&in, &m) == IPC_OK);
    check_frame(&m, 3, 3000);
    ipc_msg_free(&m);
    CHECK(!ipc_inbuf_ready(&in) && !ipc_inbuf_pending(&in));

    /* a frame that arrives byte by byte (another process writes it slowly)
     * then a second one: both whole, nothing left over */
    ipc_writer one = {0}, two = {0};
    frame_of(&one, 4, 20);
    frame_of(&two, 7, 5);
    pid_t slow = fork();
    CHECK(slow >= 0);
    if (slow == 0) {
        for (size_t i = 0; i < one.len; i++) {
            if (write(sv[0], one.data + i, 1) != 1) _exit(1);
            usleep(500);
        }
        _exit(write(sv[0], two.data, two.len) == (ssize_t)two.len ? 0 : 1);
    }
    CHECK(ipc_inbuf_recv(&in, &m) == IPC_OK);
    check_frame(&m, 4, 20);
    ipc_msg_free(&m);
    CHECK(ipc_inbuf_recv(&in, &m) == IPC_OK);
    check_frame(&m, 7, 5);
    ipc_msg_free(&m);
    int slow_status = 0;
    CHECK(waitpid(slow, &slow_status, 0) == slow && WIFEXITED(slow_status) && WEXITSTATUS(slow_status) == 0);
    CHECK(!ipc_inbuf_pending(&in));
    ipc_writer_free(&one);
    ipc_writer_free(&two);

    /* larger than the buffer, sent from another process so neither side blocks */
    ipc_writer big = {0};
    size_t big_n = 3 * IPC_INBUF_BYTES + 17;
    frame_of(&big, 5, big_n);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) _exit(ipc_send(sv[0], &big) == IPC_OK ? 0 : 1);
    CHECK(ipc_inbuf_recv(&in, &m) == IPC_OK);
    check_frame(&m, 5, big_n);
    ipc_msg_free(&m);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ipc_writer_free(&big);

    /* a hostile length is refused before anything is allocated or read */
    uint8_t huge[4] = {0xff, 0xff, 0xff, 0xff};
    CHECK(write(sv[0], huge, 4) == 4);
    CHECK(ipc_inbuf_recv(&in, &m) == IPC_ERR_TOO_LARGE);

    /* a frame cut by the peer's close is truncated; a clean close is EOF */
    int sv2[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv2) == 0);
    ipc_inbuf_init(&in, sv2[1]);
    ipc_writer cut = {0};
    frame_of(&cut, 6, 50);
    CHECK(write(sv2[0], cut.data, cut.len - 10) == (ssize_t)(cut.len - 10));
    close(sv2[0]);
    CHECK(ipc_inbuf_recv(&in, &m) == IPC_ERR_TRUNCATED);
    ipc_writer_free(&cut);
    close(sv2[1]);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv2) == 0);
    ipc_inbuf_init(&in, sv2[1]);
    close(sv2[0]);
    CHECK(ipc_inbuf_recv(&in, &m) == IPC_ERR_EOF);
    close(sv2[1]);

    free(burst);
    close(sv[0]);
    close(sv[1]);
}

int main(void) {
    test_round_trip();
    test_inbuf();
    test_try_send();
    test_too_many_fields();
    test_hostile_frames();
    return CHECK_DONE();
}
