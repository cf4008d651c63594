/*
 * test_trace.c: unit tests of trace.bin: CRC-32C, varints, the writer and reader round
 * trip, and the reader's answer to every kind of damage (cut short, bit flips, foreign
 * files, hand-made bad events), with the exact messages docs/trace-format.md lists.
 * The committed traces re-encoded byte for byte. Also the size, duration and rate
 * parsers, and the hash map under the live set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim/crc32c.h"
#include "sim/liveset.h"
#include "sim/trace_read.h"
#include "sim/trace_write.h"
#include "sim/units.h"

/* ---- helpers: traces in memory files ---- */

static int memfile(const void *data, size_t len)
{
    int fd = memfd_create("trace", MFD_CLOEXEC);
    assert_true(fd >= 0);
    if (len)
        assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

static unsigned char *slurp(int fd, size_t *len)
{
    off_t end = lseek(fd, 0, SEEK_END);
    assert_true(end >= 0);
    unsigned char *buf = malloc((size_t)end + 1);
    assert_non_null(buf);
    assert_int_equal(pread(fd, buf, (size_t)end, 0), end);
    *len = (size_t)end;
    return buf;
}

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A random but valid event stream: allocations of all kinds, frees and reallocs of live
 * objects, several threads numbered densely, times that only go forward. */
static size_t make_events(hn_trace_event *ev, size_t n, int callsites)
{
    uint64_t *live = malloc(n * sizeof *live), next = 0, t = 0;
    size_t nlive = 0, k = 0;
    uint32_t threads = 1;
    assert_non_null(live);
    while (k < n) {
        hn_trace_event e = {0};
        t += rnd() % 3 == 0 ? 0 : rnd() % 100000;
        e.time_ns = t;
        e.thread = (uint32_t)(rnd() % (threads + 1));
        if (e.thread == threads) {
            if (threads < 7)
                threads++;
            else
                e.thread = 0;
        }
        unsigned r = (unsigned)(rnd() % 10);
        if (nlive && r < 4) {
            size_t i = rnd() % nlive;
            e.kind = r == 0 ? HN_EV_REALLOC : HN_EV_FREE;
            if (e.kind == HN_EV_FREE) {
                e.id = live[i];
                live[i] = live[--nlive];
            } else {
                e.old_id = live[i];
                e.id = next++;
                e.size = rnd() % 5000;
                live[i] = e.id;
            }
        } else {
            e.kind = (uint8_t)(r % 2 ? HN_EV_MALLOC : r == 4 ? HN_EV_ALIGNED : r == 6 ? HN_EV_CALLOC : HN_EV_MALLOC);
            e.size = rnd() % 3 == 0 ? rnd() % (1u << 24) : rnd() % 256;
            if (e.kind == HN_EV_ALIGNED)
                e.align_log2 = (uint8_t)(4 + rnd() % 9);
            e.id = next++;
            live[nlive++] = e.id;
        }
        if (callsites && e.kind != HN_EV_FREE)
            e.callsite = 0x7f0000000000ull + rnd() % (1u << 20);
        ev[k++] = e;
    }
    free(live);
    return k;
}

/* Writes events into a memory file through the writer; returns the descriptor. */
static int write_events(const hn_trace_event *ev, size_t n, int callsites, size_t bufsize)
{
    int fd = memfile(NULL, 0);
    unsigned char *buf = malloc(bufsize);
    hn_trace_writer w;
    hn_trace_meta meta[] = {{"generator", "test_trace"}, {"program", "/bin/test"}, {"pid", "42"}};
    assert_non_null(buf);
    hn_trace_writer_init(&w, fd, callsites ? HN_TRACE_F_CALLSITES : 0, buf, bufsize);
    assert_int_equal(hn_trace_write_header(&w, meta, 3), 0);
    for (size_t i = 0; i < n; i++) {
        const hn_trace_event *e = &ev[i];
        uint64_t id;
        switch (e->kind) {
        case HN_EV_FREE:
            hn_trace_put_free(&w, e->time_ns, e->thread, e->id);
            continue;
        case HN_EV_REALLOC:
            id = hn_trace_put_realloc(&w, e->time_ns, e->thread, e->old_id, e->size, e->callsite);
            break;
        default:
            id = hn_trace_put_alloc(&w, e->kind, e->time_ns, e->thread, e->size, e->align_log2,
                                    e->callsite);
        }
        assert_int_equal(id, e->id);
    }
    assert_int_equal(hn_trace_writer_finish(&w), 0);
    assert_int_equal(w.err, 0);
    free(buf);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

/* Reads all of fd; returns the rc of the last hn_trace_next, copies messages. */
static int read_all(int fd, uint64_t *events, char *msg, size_t msglen)
{
    char err[HN_TRACE_ERR_LEN];
    hn_trace_reader *r = hn_trace_reader_open_fd(fd, "t.bin", err);
    if (!r) {
        snprintf(msg, msglen, "%s", err);
        return -2;
    }
    hn_trace_event ev;
    int rc;
    while ((rc = hn_trace_next(r, &ev)) > 0)
        ;
    *events = r->events;
    if (rc < 0)
        snprintf(msg, msglen, "%s", hn_trace_reader_error(r));
    else
        snprintf(msg, msglen, "%s", hn_trace_reader_warning(r) ? hn_trace_reader_warning(r) : "");
    hn_trace_reader_close(r);
    return rc;
}

static int read_bytes(const unsigned char *data, size_t len, uint64_t *events, char *msg)
{
    return read_all(memfile(data, len), events, msg, HN_TRACE_ERR_LEN);
}

/* ---- CRC and varints ---- */

static void test_crc32c_vectors(void **state)
{
    (void)state;
    unsigned char zeros[32] = {0}, ones[32];
    memset(ones, 0xff, sizeof ones);
    /* check values from RFC 3720 (iSCSI), appendix B.4 */
    assert_int_equal(hn_crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(hn_crc32c(0, zeros, 32), 0x8A9136AAu);
    assert_int_equal(hn_crc32c(0, ones, 32), 0x62A8AB43u);
    assert_int_equal(hn_crc32c(0, "", 0), 0);
    /* continuation, and every alignment of the word loop */
    unsigned char buf[100];
    for (int i = 0; i < 100; i++)
        buf[i] = (unsigned char)(i * 7 + 3);
    uint32_t whole = hn_crc32c(0, buf, 100);
    for (size_t cut = 0; cut <= 100; cut++)
        assert_int_equal(hn_crc32c(hn_crc32c(0, buf, cut), buf + cut, 100 - cut), whole);
    /* the instruction and the tables agree, at every length and alignment */
    assert_int_equal(hn_crc32c_table(0, "123456789", 9), 0xE3069283u);
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len + off <= 100; len++)
            assert_int_equal(hn_crc32c(7, buf + off, len), hn_crc32c_table(7, buf + off, len));
}

static void test_varint(void **state)
{
    (void)state;
    static const uint64_t values[] = {0, 1, 127, 128, 300, 16383, 16384, UINT32_MAX,
                                      (uint64_t)1 << 56, UINT64_MAX - 1, UINT64_MAX};
    static const int lengths[] = {1, 1, 1, 2, 2, 2, 3, 5, 9, 10, 10};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        unsigned char buf[16] = {0};
        unsigned char *end = hn_varint_put(buf, values[i]);
        assert_int_equal(end - buf, lengths[i]);
        uint64_t v;
        assert_ptr_equal(hn_varint_get(buf, &v), end);
        assert_true(v == values[i]);
    }
    /* eleven continuation bytes, and a tenth byte that overflows 64 bits */
    unsigned char longv[16];
    memset(longv, 0x80, sizeof longv);
    uint64_t v;
    assert_null(hn_varint_get(longv, &v));
    memset(longv, 0xff, 9);
    longv[9] = 0x02;
    assert_null(hn_varint_get(longv, &v));
    for (int64_t s = -1000; s <= 1000; s++)
        assert_true(hn_unzigzag(hn_zigzag(s)) == s);
    assert_true(hn_unzigzag(hn_zigzag(INT64_MIN)) == INT64_MIN);
    assert_true(hn_zigzag(-1) == 1 && hn_zigzag(1) == 2);
}

/* ---- round trip ---- */

static void round_trip(size_t n, int callsites, size_t bufsize)
{
    hn_trace_event *ev = calloc(n, sizeof *ev);
    assert_non_null(ev);
    n = make_events(ev, n, callsites);
    int fd = write_events(ev, n, callsites, bufsize);
    char err[HN_TRACE_ERR_LEN];
    hn_trace_reader *r = hn_trace_reader_open_fd(fd, "t.bin", err);
    assert_non_null(r);
    const hn_trace_header *h = hn_trace_reader_header(r);
    assert_string_equal(h->generator, "test_trace");
    assert_string_equal(h->program, "/bin/test");
    assert_int_equal(h->pid, 42);
    assert_string_equal(h->args, "");
    assert_int_equal(h->flags, callsites ? HN_TRACE_F_CALLSITES : 0);
    hn_trace_event got;
    uint32_t maxthread = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(hn_trace_next(r, &got), 1);
        assert_int_equal(got.kind, ev[i].kind);
        assert_true(got.time_ns == ev[i].time_ns);
        assert_int_equal(got.thread, ev[i].thread);
        assert_true(got.id == ev[i].id);
        assert_true(got.old_id == ev[i].old_id);
        assert_true(got.size == ev[i].size);
        assert_int_equal(got.align_log2, ev[i].align_log2);
        assert_true(got.callsite == ev[i].callsite);
        maxthread = got.thread > maxthread ? got.thread : maxthread;
    }
    assert_int_equal(hn_trace_next(r, &got), 0);
    assert_null(hn_trace_reader_warning(r));
    assert_int_equal(hn_trace_next(r, &got), 0); /* stays at the end */
    assert_true(hn_trace_reader_bytes(r) == hn_trace_reader_file_size(r));
    assert_int_equal(hn_trace_reader_threads(r), maxthread + 1);
    hn_trace_reader_close(r);
    free(ev);
}

static void test_round_trip_small_chunks(void **state)
{
    (void)state;
    round_trip(20000, 0, HN_CHUNK_HEADER_LEN + 3 * HN_EVENT_MAX); /* a chunk every few events */
}

static void test_round_trip_big(void **state)
{
    (void)state;
    round_trip(300000, 0, HN_TRACE_WRITER_BUF);
    round_trip(300000, 1, HN_TRACE_WRITER_BUF);
}

static void test_empty_trace(void **state)
{
    (void)state;
    uint64_t events = 1;
    char msg[HN_TRACE_ERR_LEN];
    int fd = write_events(NULL, 0, 0, HN_TRACE_WRITER_BUF);
    assert_int_equal(read_all(fd, &events, msg, sizeof msg), 0);
    assert_int_equal(events, 0);
    assert_string_equal(msg, "");
}

/* ---- damage ---- */

/* A small trace with several chunks, as bytes. */
static unsigned char *small_trace(size_t *len, size_t n)
{
    hn_trace_event *ev = calloc(n, sizeof *ev);
    assert_non_null(ev);
    rng_state = 12345;
    make_events(ev, n, 0);
    int fd = write_events(ev, n, 0, HN_CHUNK_HEADER_LEN + 4 * HN_EVENT_MAX); /* ~40 per chunk */
    free(ev);
    unsigned char *b = slurp(fd, len);
    close(fd);
    return b;
}

/* Offset of chunk k (from 0) in a trace. */
static size_t chunk_offset(const unsigned char *b, size_t k)
{
    size_t off = HN_TRACE_FILE_HEADER_LEN + hn_get_u32(b + 16);
    while (k--)
        off += HN_CHUNK_HEADER_LEN + hn_get_u32(b + off + 8);
    return off;
}

static void test_truncated_everywhere(void **state)
{
    (void)state;
    size_t len;
    unsigned char *b = small_trace(&len, 2000);
    char msg[HN_TRACE_ERR_LEN];
    uint64_t events, prev = 0;
    for (size_t cut = 0; cut < len; cut++) {
        int rc = read_bytes(b, cut, &events, msg);
        if (cut < HN_TRACE_FILE_HEADER_LEN + hn_get_u32(b + 16)) {
            assert_int_equal(rc, -2); /* no header: an error */
            continue;
        }
        assert_int_equal(rc, 0);
        assert_true(strstr(msg, "t.bin: cut short ") == msg);
        assert_true(events >= prev); /* more bytes never give fewer events */
        prev = events;
    }
    assert_int_equal(read_bytes(b, len, &events, msg), 0);
    assert_int_equal(events, 2000);
    assert_string_equal(msg, "");

    /* the exact messages */
    size_t c2 = chunk_offset(b, 2);
    unsigned in2 = hn_get_u32(b + chunk_offset(b, 0) + 12) + hn_get_u32(b + chunk_offset(b, 1) + 12);
    char want[200];
    read_bytes(b, c2, &events, msg);
    snprintf(want, sizeof want, "t.bin: cut short after chunk 1 (no last chunk); read %u events", in2);
    assert_string_equal(msg, want);
    read_bytes(b, c2 + 10, &events, msg);
    snprintf(want, sizeof want, "t.bin: cut short in chunk 2 (10 of 40 header bytes); read %u "
             "events", in2);
    assert_string_equal(msg, want);
    read_bytes(b, c2 + 50, &events, msg);
    snprintf(want, sizeof want, "t.bin: cut short in chunk 2 (10 of %u payload bytes); read %u "
             "events", hn_get_u32(b + c2 + 8), in2);
    assert_string_equal(msg, want);
    assert_int_equal(read_bytes(b, 0, &events, msg), -2);
    assert_string_equal(msg, "t.bin: empty file, not a heron trace");
    assert_int_equal(read_bytes(b, 12, &events, msg), -2);
    assert_string_equal(msg, "t.bin: cut short in the file header");
    free(b);
}

static void test_bit_flips(void **state)
{
    (void)state;
    size_t len;
    unsigned char *b = small_trace(&len, 300);
    char msg[HN_TRACE_ERR_LEN];
    uint64_t events;
    size_t meta_end = HN_TRACE_FILE_HEADER_LEN + hn_get_u32(b + 16);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            b[i] ^= (unsigned char)(1u << bit);
            int rc = read_bytes(b, len, &events, msg);
            b[i] ^= (unsigned char)(1u << bit);
            if (i >= 16 && i < 20) { /* the metadata length: cut short or bad checksum */
                assert_true(rc < 0 || (rc == 0 && strstr(msg, "cut short")));
                continue;
            }
            if (rc != -1 && rc != -2)
                fail_msg("flip of byte %zu bit %d read as %d: %s", i, bit, rc, msg);
            if (i < meta_end) {
                if (rc != -2)
                    fail_msg("flip of byte %zu bit %d in the file header read as %d: %s", i, bit,
                             rc, msg);
            } else if (strstr(msg, "t.bin: chunk ") != msg)
                fail_msg("flip of byte %zu bit %d: %s", i, bit, msg);
        }
    }
    /* exact messages: magic, version, metadata, chunk header and payload */
    b[0] ^= 1;
    assert_int_equal(read_bytes(b, len, &events, msg), -2);
    assert_string_equal(msg, "t.bin: not a heron trace (bad magic)");
    b[0] ^= 1;
    b[8] = 7;
    read_bytes(b, len, &events, msg);
    assert_string_equal(msg, "t.bin: trace format version 7 is not supported (this gcsim reads version 1)");
    b[8] = 1;
    b[meta_end - 1] ^= 4;
    read_bytes(b, len, &events, msg);
    assert_string_equal(msg, "t.bin: header: bad checksum");
    b[meta_end - 1] ^= 4;
    size_t c3 = chunk_offset(b, 3);
    assert_true(c3 + 100 < len);
    b[c3 + 12] ^= 1;
    assert_int_equal(read_bytes(b, len, &events, msg), -1);
    assert_string_equal(msg, "t.bin: chunk 3: bad header checksum");
    b[c3 + 12] ^= 1;
    b[c3 + HN_CHUNK_HEADER_LEN + 5] ^= 0x10;
    assert_int_equal(read_bytes(b, len, &events, msg), -1);
    assert_string_equal(msg, "t.bin: chunk 3: bad checksum");
    uint64_t before3 = 0;
    for (size_t k = 0; k < 3; k++)
        before3 += hn_get_u32(b + chunk_offset(b, k) + 12);
    assert_true(events == before3);
    b[c3 + HN_CHUNK_HEADER_LEN + 5] ^= 0x10;
    b[c3] = 'X';
    read_bytes(b, len, &events, msg);
    snprintf((char *)msg + 200, 100, "t.bin: chunk 3: bad chunk magic at offset %zu", c3);
    assert_string_equal(msg, msg + 200);
    free(b);
}

static void test_foreign_files(void **state)
{
    (void)state;
    char msg[HN_TRACE_ERR_LEN];
    uint64_t events;
    static const char text[] = "hello, this is not a trace at all\n";
    assert_int_equal(read_bytes((const unsigned char *)text, sizeof text - 1, &events, msg), -2);
    assert_string_equal(msg, "t.bin: not a heron trace (bad magic)");
    static const unsigned char elf[] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                        3, 0, 0x3e, 0, 1, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(read_bytes(elf, sizeof elf, &events, msg), -2);
    assert_string_equal(msg, "t.bin: not a heron trace (bad magic)");
    char err[HN_TRACE_ERR_LEN];
    assert_null(hn_trace_reader_open("/nonexistent/t.bin", err));
    assert_string_equal(err, "/nonexistent/t.bin: No such file or directory");
}

/* Builds a file with one chunk whose payload is given, with correct checksums, so the
 * event checks (not the CRC) are what fails. */
static int one_chunk(const unsigned char *payload, uint32_t len, uint32_t count, uint32_t flags,
                     uint64_t base_id, uint32_t file_flags)
{
    unsigned char b[4096];
    memcpy(b, HN_TRACE_MAGIC, 8);
    hn_put_u32(b + 8, HN_TRACE_VERSION);
    hn_put_u32(b + 12, file_flags);
    hn_put_u32(b + 16, 0);
    hn_put_u32(b + 20, hn_crc32c(0, b, 20));
    unsigned char *h = b + 24;
    hn_put_u32(h, HN_CHUNK_MAGIC);
    hn_put_u32(h + 4, flags);
    hn_put_u32(h + 8, len);
    hn_put_u32(h + 12, count);
    hn_put_u64(h + 16, 0);
    hn_put_u64(h + 24, base_id);
    hn_put_u32(h + 32, hn_crc32c(0, payload, len));
    hn_put_u32(h + 36, hn_crc32c(0, h, 36));
    memcpy(h + 40, payload, len);
    return memfile(b, 24 + 40 + len);
}

static void expect_chunk(const unsigned char *payload, uint32_t len, uint32_t count, uint64_t base_id,
                         const char *want)
{
    char msg[HN_TRACE_ERR_LEN];
    uint64_t events;
    int rc = read_all(one_chunk(payload, len, count, HN_CHUNK_LAST, base_id, 0), &events, msg,
                      sizeof msg);
    assert_int_equal(rc, -1);
    assert_string_equal(msg, want);
}

static void test_bad_events(void **state)
{
    (void)state;
    static const unsigned char bad_tag[] = {0x07, 0};
    expect_chunk(bad_tag, 2, 1, 0, "t.bin: chunk 0: event 0: bad event tag 0x7");
    static const unsigned char high_tag[] = {0x10, 0};
    expect_chunk(high_tag, 2, 1, 0, "t.bin: chunk 0: event 0: bad event tag 0x10");
    static const unsigned char free_nothing[] = {HN_EV_FREE, 0, 0};
    expect_chunk(free_nothing, 3, 1, 0,
                 "t.bin: chunk 0: event 0: reference to an object never created (0 back)");
    static const unsigned char thread_jump[] = {HN_EV_MALLOC | HN_TAG_THREAD, 0, 2, 8};
    expect_chunk(thread_jump, 4, 1, 0,
                 "t.bin: chunk 0: event 0: thread 2 appears before the threads numbered below it");
    static const unsigned char long_varint[] = {HN_EV_MALLOC, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                                0x80, 0x80, 0x80, 0x80, 0x01};
    expect_chunk(long_varint, sizeof long_varint, 1, 0,
                 "t.bin: chunk 0: event 0: varint longer than 64 bits");
    static const unsigned char past_end[] = {HN_EV_MALLOC, 0, 0x80};
    expect_chunk(past_end, 3, 1, 0, "t.bin: chunk 0: event 0: event runs 1 bytes past the end of "
                 "the chunk");
    static const unsigned char huge[] = {HN_EV_MALLOC, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    expect_chunk(huge, sizeof huge, 1, 0, "t.bin: chunk 0: event 0: size 562949953421312 is "
                 "larger than an address space");
    static const unsigned char align[] = {HN_EV_ALIGNED, 0, 8, 60};
    expect_chunk(align, 4, 1, 0, "t.bin: chunk 0: event 0: alignment 2^60 is larger than an "
                 "address space");
    static const unsigned char two[] = {HN_EV_MALLOC, 0, 8, HN_EV_MALLOC, 0, 8};
    expect_chunk(two, 6, 1, 0, "t.bin: chunk 0: 3 bytes after its last event");
    expect_chunk(two, 6, 4, 0, "t.bin: chunk 0: 4 events cannot fit in 6 bytes");
    expect_chunk(two, 6, 2, 5, "t.bin: chunk 0: starts at object 5 but 0 objects came before it");

    /* data after the last chunk */
    char msg[HN_TRACE_ERR_LEN];
    uint64_t events;
    int fd = one_chunk(two, 6, 2, HN_CHUNK_LAST, 0, 0);
    assert_int_equal(lseek(fd, 0, SEEK_END), 24 + 40 + 6);
    assert_int_equal(write(fd, "x", 1), 1);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(read_all(fd, &events, msg, sizeof msg), -1);
    assert_string_equal(msg, "t.bin: chunk 1: data after the last chunk");
    assert_int_equal(events, 2);
    /* unknown flags */
    assert_int_equal(read_all(one_chunk(two, 6, 2, 2, 0, 0), &events, msg, sizeof msg), -1);
    assert_string_equal(msg, "t.bin: chunk 0: unknown flags 0x2");
    assert_int_equal(read_all(one_chunk(two, 6, 2, 1, 0, 8), &events, msg, sizeof msg), -2);
    /* (the header checksum is right: one_chunk computes it over the flags) */
    assert_string_equal(msg, "t.bin: header: unknown flags 0x8");
}

/* Reads a committed trace (recorded or generated) and writes its events again through the
 * writer: the chunks must come out byte for byte as they were, so every event was read
 * back exactly as written. The source root comes from the environment (meson sets it). */
static void reencode(const char *rel)
{
    const char *root = getenv("HN_SOURCE_ROOT");
    char path[4096], err[HN_TRACE_ERR_LEN];
    assert_non_null(root);
    snprintf(path, sizeof path, "%s/%s", root, rel);
    hn_trace_reader *r = hn_trace_reader_open(path, err);
    if (!r)
        fail_msg("%s", err);
    const hn_trace_header *h = hn_trace_reader_header(r);
    hn_trace_meta meta[HN_TRACE_META_KEYS];
    for (size_t i = 0; i < h->nmeta; i++)
        meta[i] = (hn_trace_meta){h->keys[i], h->values[i]};
    int fd = memfile(NULL, 0);
    static unsigned char buf[HN_TRACE_WRITER_BUF];
    hn_trace_writer w;
    hn_trace_writer_init(&w, fd, h->flags, buf, sizeof buf);
    assert_int_equal(hn_trace_write_header(&w, meta, h->nmeta), 0);
    hn_trace_event ev = {0};
    int rc;
    while ((rc = hn_trace_next(r, &ev)) > 0) {
        if (ev.kind == HN_EV_FREE)
            hn_trace_put_free(&w, ev.time_ns, ev.thread, ev.id);
        else if (ev.kind == HN_EV_REALLOC)
            assert_true(hn_trace_put_realloc(&w, ev.time_ns, ev.thread, ev.old_id, ev.size,
                                             ev.callsite) == ev.id);
        else
            assert_true(hn_trace_put_alloc(&w, ev.kind, ev.time_ns, ev.thread, ev.size,
                                           ev.align_log2, ev.callsite) == ev.id);
    }
    assert_int_equal(rc, 0);
    assert_null(hn_trace_reader_warning(r));
    assert_int_equal(hn_trace_writer_finish(&w), 0);
    hn_trace_reader_close(r);

    size_t len, orig_len;
    unsigned char *again = slurp(fd, &len);
    close(fd);
    int ofd = open(path, O_RDONLY);
    assert_true(ofd >= 0);
    unsigned char *orig = slurp(ofd, &orig_len);
    close(ofd);
    assert_true(len == orig_len);
    assert_memory_equal(again, orig, len);
    free(again);
    free(orig);
}

static void test_reencode_shipped_traces(void **state)
{
    (void)state;
    reencode("sim/traces/python-json.trace");
    reencode("sim/traces/sqlite.trace");
    reencode("sim/traces/steady-small.trace");
    reencode("tests/sim/fuzz/corpus/ls-callsites.trace");
}

/* ---- units ---- */

static void test_sizes(void **state)
{
    (void)state;
    struct { const char *s; uint64_t v; } ok[] = {
        {"0", 0}, {"64", 64}, {"64B", 64}, {"1KiB", 1024}, {"64MiB", 64ull << 20},
        {"1GiB", 1ull << 30}, {"2TiB", 2ull << 40}, {"64MB", 64000000}, {"1kB", 1000},
        {"1KB", 1000}, {"3G", 3ull << 30}, {"1.5GiB", 3ull << 29}, {"512K", 512 * 1024},
    };
    char err[HN_UNITS_ERR_LEN];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t v = 1;
        assert_int_equal(hn_parse_size(ok[i].s, &v, err), 0);
        assert_true(v == ok[i].v);
    }
    static const char *const bad[] = {"", "MiB", "-1", "1XiB", "0x10", "1e3", "1.1B", "99999999TiB",
                                      "1 MiB", "inf"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v;
        assert_int_equal(hn_parse_size(bad[i], &v, err), -1);
    }
    uint64_t v;
    hn_parse_size("12QB", &v, err);
    assert_string_equal(err, "bad size '12QB': unknown unit 'QB' (use B, KiB, MiB, GiB, TiB, or kB, MB, GB, TB)");
}

static void test_durations_and_rates(void **state)
{
    (void)state;
    struct { const char *s; uint64_t ns; } ok[] = {
        {"0", 0}, {"1ns", 1}, {"1us", 1000}, {"300ms", 300000000}, {"10s", 10000000000ull},
        {"1m30s", 90000000000ull}, {"1h", 3600000000000ull}, {"1.5s", 1500000000}, {"2h45m", 9900000000000ull},
    };
    char err[HN_UNITS_ERR_LEN];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t v = 1;
        assert_int_equal(hn_parse_duration(ok[i].s, &v, err), 0);
        assert_true(v == ok[i].ns);
    }
    static const char *const bad[] = {"", "10", "s", "10x", "-1s", "1s2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v;
        assert_int_equal(hn_parse_duration(bad[i], &v, err), -1);
    }
    uint64_t v;
    hn_parse_duration("10", &v, err);
    assert_string_equal(err, "bad duration '10': missing unit (use ns, us, ms, s, m, h as in 1m30s)");
    double r;
    assert_int_equal(hn_parse_rate("100MiB/s", &r, err), 0);
    assert_true(r == 100.0 * 1048576);
    assert_int_equal(hn_parse_rate("1GiB/10s", &r, err), 0);
    assert_true(r == 1073741824.0 / 10);
    assert_int_equal(hn_parse_rate("1GiB/500ms", &r, err), 0);
    assert_true(r == 2147483648.0);
    assert_int_equal(hn_parse_rate("100MiB", &r, err), -1);
    assert_int_equal(hn_parse_rate("0B/s", &r, err), -1);
    char buf[48];
    assert_string_equal(hn_fmt_size(buf, sizeof buf, 512), "512 B");
    assert_string_equal(hn_fmt_size(buf, sizeof buf, 1536), "1.50 KiB");
    assert_string_equal(hn_fmt_size(buf, sizeof buf, 64.0 * 1048576), "64.0 MiB");
    assert_string_equal(hn_fmt_duration(buf, sizeof buf, 1.5e9), "1.500 s");
}

/* ---- the live set's map against a plain array ---- */

static void test_liveset(void **state)
{
    (void)state;
    enum { N = 200000 };
    hn_liveset s;
    uint64_t *size = calloc(N, sizeof *size);
    assert_non_null(size);
    assert_int_equal(hn_liveset_init(&s), 0);
    uint64_t sum = 0, count = 0;
    for (uint64_t id = 0; id < N; id++) {
        size[id] = id % 1000 + 1;
        assert_int_equal(hn_liveset_add(&s, id, size[id], id * 10), 0);
        sum += size[id];
        count++;
        if (rnd() % 3) { /* free a random live one */
            uint64_t victim = rnd() % (id + 1), sz = 0, t = 0;
            if (size[victim]) {
                assert_int_equal(hn_liveset_remove(&s, victim, &sz, &t), 0);
                assert_true(sz == size[victim] && t == victim * 10);
                sum -= size[victim];
                count--;
                size[victim] = 0;
            } else {
                assert_int_equal(hn_liveset_remove(&s, victim, &sz, &t), -1);
            }
        }
        assert_true(s.bytes == sum);
        assert_true(hn_liveset_count(&s) == count);
    }
    for (uint64_t id = 0; id < N; id++) {
        uint64_t sz, t;
        assert_int_equal(hn_liveset_remove(&s, id, &sz, &t), size[id] ? 0 : -1);
    }
    assert_true(s.bytes == 0 && hn_liveset_count(&s) == 0);
    hn_liveset_destroy(&s);
    free(size);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_vectors),
        cmocka_unit_test(test_varint),
        cmocka_unit_test(test_round_trip_small_chunks),
        cmocka_unit_test(test_round_trip_big),
        cmocka_unit_test(test_empty_trace),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_bit_flips),
        cmocka_unit_test(test_foreign_files),
        cmocka_unit_test(test_bad_events),
        cmocka_unit_test(test_reencode_shipped_traces),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_durations_and_rates),
        cmocka_unit_test(test_liveset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
