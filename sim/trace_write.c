/*
 * trace_write.c: the out-of-line half of the trace writer: the file header and the
 * writing of chunks. See trace_write.h for the contract and trace_format.h for layout.
 */
#include "sim/trace_write.h"

#include <errno.h>
#include <unistd.h>

#include "sim/crc32c.h"

const char *hn_trace_kind_name(unsigned kind)
{
    static const char *const names[HN_EV_NKINDS] = {"malloc", "calloc", "realloc", "aligned",
                                                    "free"};
    return kind < HN_EV_NKINDS ? names[kind] : "unknown";
}

/* Writes all of buf, retrying short writes and EINTR. Async-signal-safe. */
static int write_all(hn_trace_writer *w, const unsigned char *buf, size_t len)
{
    if (w->err)
        return -1;
    while (len) {
        ssize_t n = write(w->fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            w->err = errno;
            return -1;
        }
        if (n == 0) {
            w->err = EIO;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
        w->bytes += (uint64_t)n;
    }
    return 0;
}

static void chunk_reset(hn_trace_writer *w)
{
    w->pos = w->chunk + HN_CHUNK_HEADER_LEN;
    w->count = 0;
    w->thread = 0;
    w->callsite = 0;
    w->base_time = w->time;
    w->base_id = w->next_id;
}

void hn_trace_writer_init(hn_trace_writer *w, int fd, uint32_t flags, void *buf, size_t len)
{
    memset(w, 0, sizeof *w);
    if (len > HN_CHUNK_HEADER_LEN + HN_CHUNK_PAYLOAD_MAX)
        len = HN_CHUNK_HEADER_LEN + HN_CHUNK_PAYLOAD_MAX;
    w->fd = fd;
    w->flags = flags;
    w->chunk = buf;
    w->limit = w->chunk + len - HN_EVENT_MAX;
    chunk_reset(w);
}

int hn_trace_write_header(hn_trace_writer *w, const hn_trace_meta *meta, size_t n)
{
    /* The header is built in the chunk buffer, which is empty before the first event. */
    unsigned char *start = w->chunk;
    unsigned char *p = start + HN_TRACE_FILE_HEADER_LEN;
    unsigned char *end = w->limit;
    if ((size_t)(end - p) > HN_TRACE_META_MAX)
        end = p + HN_TRACE_META_MAX;

    for (size_t i = 0; i < n; i++) {
        size_t klen = strlen(meta[i].key), vlen = strlen(meta[i].value);
        if ((size_t)(end - p) < klen + 2 * 10 + 1)
            break;
        size_t room = (size_t)(end - p) - klen - 2 * 10;
        if (vlen > room)
            vlen = room;
        p = hn_varint_put(p, klen);
        memcpy(p, meta[i].key, klen);
        p += klen;
        p = hn_varint_put(p, vlen);
        memcpy(p, meta[i].value, vlen);
        p += vlen;
    }
    uint32_t meta_len = (uint32_t)(p - start - HN_TRACE_FILE_HEADER_LEN);
    memcpy(start, HN_TRACE_MAGIC, HN_TRACE_MAGIC_LEN);
    hn_put_u32(start + 8, HN_TRACE_VERSION);
    hn_put_u32(start + 12, w->flags);
    hn_put_u32(start + 16, meta_len);
    /* the checksum covers the fixed fields before it and the metadata after it */
    hn_put_u32(start + 20, hn_crc32c(hn_crc32c(0, start, 20), start + HN_TRACE_FILE_HEADER_LEN,
                                     meta_len));
    return write_all(w, start, (size_t)(p - start));
}

int hn_trace_writer_flush(hn_trace_writer *w, int last)
{
    if (w->count == 0 && !last)
        return 0;
    unsigned char *h = w->chunk;
    uint32_t len = (uint32_t)(w->pos - h - HN_CHUNK_HEADER_LEN);
    hn_put_u32(h, HN_CHUNK_MAGIC);
    hn_put_u32(h + 4, last ? HN_CHUNK_LAST : 0);
    hn_put_u32(h + 8, len);
    hn_put_u32(h + 12, w->count);
    hn_put_u64(h + 16, w->base_time);
    hn_put_u64(h + 24, w->base_id);
    hn_put_u32(h + 32, hn_crc32c(0, h + HN_CHUNK_HEADER_LEN, len));
    hn_put_u32(h + 36, hn_crc32c(0, h, 36));
    int rc = write_all(w, h, HN_CHUNK_HEADER_LEN + len);
    if (rc == 0) {
        w->chunks++;
        w->events += w->count;
    }
    chunk_reset(w);
    return rc;
}
