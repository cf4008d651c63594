/*
 * trace_read.c: the out-of-line half of the trace reader: opening a file, checking its
 * header, and loading each chunk after checking its header, length and checksum.
 *
 * A chunk is read whole into one buffer (at most HN_CHUNK_PAYLOAD_MAX bytes) and
 * checksummed before any event in it is decoded; the decoder in trace_read.h then only
 * has to check that each event stays inside the chunk and refers to objects that exist.
 * The end of the file is expected right after a chunk flagged last: ending anywhere
 * else is a trace cut short (a warning, the events before it stand); anything after the
 * last chunk, or any check failing, is an error.
 */
#include "sim/trace_read.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/crc32c.h"

/* Reads up to len bytes, fewer only at the end of the file. -1 with errno on failure. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* Makes r->buf hold at least len bytes plus the zero padding; 0 or -1. The buffer grows
 * to the largest chunk seen (64 KiB for the writers here), not to HN_CHUNK_PAYLOAD_MAX. */
static int reserve(hn_trace_reader *r, size_t len)
{
    if (len + HN_CHUNK_PAD <= r->bufcap)
        return 0;
    unsigned char *b = realloc(r->buf, len + HN_CHUNK_PAD);
    if (!b)
        return -1;
    r->buf = b;
    r->bufcap = len + HN_CHUNK_PAD;
    return 0;
}

/* "NAME: " and the message into dst (HN_TRACE_ERR_LEN bytes); ends the reading. */
__attribute__((format(printf, 4, 0))) static void set_message(hn_trace_reader *r, char *dst,
                                                              int state, const char *fmt,
                                                              va_list ap)
{
    int n = snprintf(dst, HN_TRACE_ERR_LEN, "%s: ", r->name);
    if (n > 0 && n < HN_TRACE_ERR_LEN)
        vsnprintf(dst + n, HN_TRACE_ERR_LEN - (size_t)n, fmt, ap);
    r->state = state;
    r->left = 0;
}

/* A corrupt or unreadable trace: returns -1. */
__attribute__((format(printf, 2, 3))) static int fail(hn_trace_reader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_message(r, r->error, HN_TR_ERROR, fmt, ap);
    va_end(ap);
    return -1;
}

/* A trace that ends before its last chunk: returns 0, the end, with a warning. */
__attribute__((format(printf, 2, 3))) static int cut_short(hn_trace_reader *r, const char *fmt,
                                                           ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_message(r, r->warning, HN_TR_END, fmt, ap);
    va_end(ap);
    return 0;
}

int hn_trace_reader_bad_event(hn_trace_reader *r, const char *fmt, unsigned long long v)
{
    char what[200];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(what, sizeof what, fmt, v);
#pragma GCC diagnostic pop
    return fail(r, "chunk %" PRIu64 ": event %" PRIu32 ": %s", r->chunk,
                r->count - r->left, what);
}

const char *hn_trace_meta_get(const hn_trace_reader *r, const char *key)
{
    for (size_t i = 0; i < r->hdr.nmeta; i++)
        if (strcmp(r->hdr.keys[i], key) == 0)
            return r->hdr.values[i];
    return NULL;
}

static uint64_t meta_u64(const hn_trace_reader *r, const char *key)
{
    const char *v = hn_trace_meta_get(r, key);
    if (!v || *v < '0' || *v > '9')
        return 0;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    return (errno || *end) ? 0 : n;
}

static const char *meta_str(const hn_trace_reader *r, const char *key)
{
    const char *v = hn_trace_meta_get(r, key);
    return v ? v : "";
}

/* Splits the metadata block into NUL-terminated keys and values in r->meta. */
static int parse_meta(hn_trace_reader *r, const unsigned char *m, uint32_t len)
{
    /* Each entry takes at least 3 bytes (lengths and a 1-byte key) and gains two NULs. */
    r->meta = malloc((size_t)len * 2 + 1);
    if (!r->meta)
        return fail(r, "out of memory");
    unsigned char *copy = calloc(1, (size_t)len + HN_CHUNK_PAD);
    if (!copy)
        return fail(r, "out of memory");
    memcpy(copy, m, len);
    const unsigned char *p = copy, *end = copy + len;
    char *out = r->meta;
    int rc = 0;
    while (p < end) {
        uint64_t klen, vlen;
        const unsigned char *q = hn_varint_get(p, &klen);
        if (!q || q > end || klen == 0 || klen > 64 || klen > (uint64_t)(end - q)) {
            rc = fail(r, "header: bad metadata key");
            break;
        }
        for (uint64_t i = 0; i < klen; i++) {
            unsigned char c = q[i];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
                rc = fail(r, "header: bad metadata key");
                goto out;
            }
        }
        const unsigned char *key = q;
        q += klen;
        q = hn_varint_get(q, &vlen);
        if (!q || q > end || vlen > (uint64_t)(end - q)) {
            rc = fail(r, "header: bad metadata value");
            break;
        }
        if (r->hdr.nmeta == HN_TRACE_META_KEYS) {
            rc = fail(r, "header: more than %d metadata entries", HN_TRACE_META_KEYS);
            break;
        }
        r->hdr.keys[r->hdr.nmeta] = out;
        memcpy(out, key, klen);
        out += klen;
        *out++ = 0;
        r->hdr.values[r->hdr.nmeta++] = out;
        for (uint64_t i = 0; i < vlen; i++)
            *out++ = q[i] ? (char)q[i] : ' '; /* a NUL inside a value would cut it short */
        *out++ = 0;
        p = q + vlen;
    }
out:
    free(copy);
    return rc;
}

hn_trace_reader *hn_trace_reader_open_fd(int fd, const char *name, char *err)
{
    hn_trace_reader *r = calloc(1, sizeof *r);
    unsigned char h[HN_TRACE_FILE_HEADER_LEN];
    if (!r) {
        snprintf(err, HN_TRACE_ERR_LEN, "%s: out of memory", name);
        close(fd);
        return NULL;
    }
    r->fd = fd;
    snprintf(r->name, sizeof r->name, "%s", name);
    r->nthreads = 1;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        r->file_size = (uint64_t)st.st_size;

    ssize_t n = read_full(fd, h, sizeof h);
    if (n < 0) {
        fail(r, "%s", strerror(errno));
        goto bad;
    }
    r->offset = (uint64_t)n;
    if (n == 0) {
        fail(r, "empty file, not a heron trace");
        goto bad;
    }
    if ((size_t)n < HN_TRACE_MAGIC_LEN || memcmp(h, HN_TRACE_MAGIC, HN_TRACE_MAGIC_LEN) != 0) {
        fail(r, "not a heron trace (bad magic)");
        goto bad;
    }
    if ((size_t)n < sizeof h) {
        fail(r, "cut short in the file header");
        goto bad;
    }
    r->hdr.version = hn_get_u32(h + 8);
    r->hdr.flags = r->flags = hn_get_u32(h + 12);
    uint32_t meta_len = hn_get_u32(h + 16);
    if (r->hdr.version != HN_TRACE_VERSION) {
        fail(r, "trace format version %" PRIu32 " is not supported (this gcsim reads version %u)",
             r->hdr.version, HN_TRACE_VERSION);
        goto bad;
    }
    if (meta_len > HN_TRACE_META_MAX) {
        fail(r, "header: metadata length %" PRIu32 " exceeds %u", meta_len, HN_TRACE_META_MAX);
        goto bad;
    }
    if (reserve(r, meta_len) < 0) {
        fail(r, "out of memory");
        goto bad;
    }
    n = read_full(fd, r->buf, meta_len);
    if (n < 0) {
        fail(r, "%s", strerror(errno));
        goto bad;
    }
    r->offset += (uint64_t)n;
    if ((uint32_t)n < meta_len) {
        fail(r, "cut short in the file header");
        goto bad;
    }
    if (hn_crc32c(hn_crc32c(0, h, 20), r->buf, meta_len) != hn_get_u32(h + 20)) {
        fail(r, "header: bad checksum");
        goto bad;
    }
    if (r->flags & ~HN_TRACE_F_KNOWN) {
        fail(r, "header: unknown flags 0x%" PRIx32, r->flags & ~HN_TRACE_F_KNOWN);
        goto bad;
    }
    if (parse_meta(r, r->buf, meta_len) < 0)
        goto bad;
    r->hdr.program = meta_str(r, "program");
    r->hdr.args = meta_str(r, "args");
    r->hdr.generator = meta_str(r, "generator");
    r->hdr.clock = meta_str(r, "clock");
    r->hdr.start_unix_ns = meta_u64(r, "start_unix_ns");
    r->hdr.pid = meta_u64(r, "pid");
    r->hdr.parent_pid = meta_u64(r, "parent_pid");
    r->chunk = UINT64_MAX; /* the first refill makes it 0 */
    r->chunk_offset = r->offset;
    r->state = HN_TR_OK;
    return r;
bad:
    snprintf(err, HN_TRACE_ERR_LEN, "%s", r->error);
    hn_trace_reader_close(r);
    return NULL;
}

hn_trace_reader *hn_trace_reader_open(const char *path, char *err)
{
    if (strcmp(path, "-") == 0)
        return hn_trace_reader_open_fd(dup(0), "-", err);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, HN_TRACE_ERR_LEN, "%s: %s", path, strerror(errno));
        return NULL;
    }
    return hn_trace_reader_open_fd(fd, path, err);
}

void hn_trace_reader_close(hn_trace_reader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    free(r->buf);
    free(r->meta);
    free(r);
}

int hn_trace_reader_refill(hn_trace_reader *r)
{
    unsigned char h[HN_CHUNK_HEADER_LEN];

    if (r->state == HN_TR_ERROR)
        return -1;
    if (r->state == HN_TR_END)
        return 0;
    if (r->chunk != UINT64_MAX && r->p != r->end)
        return fail(r, "chunk %" PRIu64 ": %zu bytes after its last event", r->chunk,
                    (size_t)(r->end - r->p));

    for (;;) {
        uint64_t next = r->chunk + 1;
        ssize_t n;
        if (r->last_seen) {
            unsigned char extra;
            n = read_full(r->fd, &extra, 1);
            if (n < 0)
                return fail(r, "%s", strerror(errno));
            if (n > 0)
                return fail(r, "chunk %" PRIu64 ": data after the last chunk", next);
            r->state = HN_TR_END;
            return 0;
        }
        n = read_full(r->fd, h, sizeof h);
        if (n < 0)
            return fail(r, "%s", strerror(errno));
        r->chunk = next;
        r->chunk_offset = r->offset;
        r->offset += (uint64_t)n;
        if (n == 0)
            return cut_short(r, "cut short after chunk %" PRId64 " (no last chunk); read %" PRIu64
                             " events", (int64_t)next - 1, r->events);
        if ((size_t)n < sizeof h)
            return cut_short(r, "cut short in chunk %" PRIu64 " (%zd of %u header bytes); read %"
                             PRIu64 " events", next, n, HN_CHUNK_HEADER_LEN, r->events);
        if (hn_get_u32(h) != HN_CHUNK_MAGIC)
            return fail(r, "chunk %" PRIu64 ": bad chunk magic at offset %" PRIu64, next,
                        r->chunk_offset);
        if (hn_crc32c(0, h, 36) != hn_get_u32(h + 36))
            return fail(r, "chunk %" PRIu64 ": bad header checksum", next);
        uint32_t flags = hn_get_u32(h + 4), len = hn_get_u32(h + 8), count = hn_get_u32(h + 12);
        uint64_t base_time = hn_get_u64(h + 16), base_id = hn_get_u64(h + 24);
        if (flags & ~HN_CHUNK_F_KNOWN)
            return fail(r, "chunk %" PRIu64 ": unknown flags 0x%" PRIx32, next, flags);
        if (len > HN_CHUNK_PAYLOAD_MAX)
            return fail(r, "chunk %" PRIu64 ": length %" PRIu32 " exceeds %u", next, len,
                        HN_CHUNK_PAYLOAD_MAX);
        if ((uint64_t)count * 2 > len) /* an event is at least a tag and a time delta */
            return fail(r, "chunk %" PRIu64 ": %" PRIu32 " events cannot fit in %" PRIu32
                        " bytes", next, count, len);
        if (base_id != r->next_id)
            return fail(r, "chunk %" PRIu64 ": starts at object %" PRIu64 " but %" PRIu64
                        " objects came before it", next, base_id, r->next_id);
        if (base_time != r->time)
            return fail(r, "chunk %" PRIu64 ": starts at time %" PRIu64 " ns, expected %" PRIu64,
                        next, base_time, r->time);
        if (reserve(r, len) < 0)
            return fail(r, "out of memory for a chunk of %" PRIu32 " bytes", len);
        n = read_full(r->fd, r->buf, len);
        if (n < 0)
            return fail(r, "%s", strerror(errno));
        r->offset += (uint64_t)n;
        if ((uint32_t)n < len)
            return cut_short(r, "cut short in chunk %" PRIu64 " (%zd of %" PRIu32 " payload bytes);"
                             " read %" PRIu64 " events", next, n, len, r->events);
        if (hn_crc32c(0, r->buf, len) != hn_get_u32(h + 32))
            return fail(r, "chunk %" PRIu64 ": bad checksum", next);
        memset(r->buf + len, 0, HN_CHUNK_PAD);
        r->p = r->buf;
        r->end = r->buf + len;
        r->count = r->left = count;
        r->thread = 0;
        r->callsite = 0;
        r->last_seen = (flags & HN_CHUNK_LAST) != 0;
        if (count)
            return 1;
        if (len)
            return fail(r, "chunk %" PRIu64 ": %" PRIu32 " bytes after its last event", next, len);
    }
}
