/*
 * trace_write.h: the one writer of trace.bin, used by the recorder and by `gcsim gen`.
 *
 * The writer encodes events into a chunk buffer the caller owns and writes each full
 * chunk with write(2). It never allocates and never takes a lock, so the recorder can
 * call it from inside malloc (under its own lock) and from a signal handler.
 *
 * Use: hn_trace_writer_init, hn_trace_write_header once, then hn_trace_put_* for each
 * event in order, then hn_trace_writer_finish (which writes the chunk flagged last).
 * Times must not go backwards; a smaller time is recorded as the previous one.
 * The caller serialises all calls on one writer.
 */
#ifndef HN_SIM_TRACE_WRITE_H
#define HN_SIM_TRACE_WRITE_H

#include "sim/trace_format.h"

/* A chunk the writer fills to about 64 KiB of payload: large enough that the 40-byte
 * chunk header costs under 0.1 %, small enough that a crash loses little and that a
 * recorded program never waits long on one write. */
#define HN_TRACE_CHUNK_TARGET (64u * 1024)
/* The buffer hn_trace_writer_init needs for that target. */
#define HN_TRACE_WRITER_BUF (HN_CHUNK_HEADER_LEN + HN_TRACE_CHUNK_TARGET + HN_EVENT_MAX)

typedef struct hn_trace_writer {
    unsigned char *pos;   /* next byte of the payload */
    unsigned char *limit; /* once pos passes this, the chunk is written */
    unsigned char *chunk; /* the chunk buffer: header, then payload */
    uint64_t time;        /* time of the last event */
    uint64_t next_id;     /* id the next new object gets */
    uint64_t callsite;    /* call site of the last event in this chunk */
    uint32_t thread;      /* thread of the last event in this chunk */
    uint32_t count;       /* events in this chunk */
    uint32_t flags;       /* file flags, HN_TRACE_F_* */
    int fd;
    int err;              /* errno of the first failed write; later writes are dropped */
    uint64_t base_time;   /* time and next id when this chunk began */
    uint64_t base_id;
    uint64_t chunks;      /* chunks written */
    uint64_t events;      /* events in written chunks */
    uint64_t bytes;       /* bytes written, header included */
} hn_trace_writer;

/* One metadata entry of the file header (docs/trace-format.md lists the keys). */
typedef struct hn_trace_meta {
    const char *key;
    const char *value;
} hn_trace_meta;

/* buf: at least HN_CHUNK_HEADER_LEN + 2 * HN_EVENT_MAX bytes, at most
 * HN_CHUNK_HEADER_LEN + HN_CHUNK_PAYLOAD_MAX; the chunk payload fills it less one event. */
void hn_trace_writer_init(hn_trace_writer *w, int fd, uint32_t flags, void *buf, size_t len);
/* Writes the file header with n metadata entries; values longer than fit are cut.
 * Returns 0 or -1 with w->err set. */
int hn_trace_write_header(hn_trace_writer *w, const hn_trace_meta *meta, size_t n);
/* Writes the chunk in progress if it holds events, or always when last is set.
 * Returns 0 or -1 with w->err set. Async-signal-safe. */
int hn_trace_writer_flush(hn_trace_writer *w, int last);
static inline int hn_trace_writer_finish(hn_trace_writer *w)
{
    return hn_trace_writer_flush(w, 1);
}

/* The tag, time delta and thread that begin every event. */
static inline unsigned char *hn_tw_begin(hn_trace_writer *w, unsigned kind, uint64_t time,
                                         uint32_t thread)
{
    unsigned char *p = w->pos;
    uint64_t dt = 0;
    if (time > w->time) {
        dt = time - w->time;
        w->time = time;
    }
    if (thread != w->thread) {
        *p++ = (unsigned char)(kind | HN_TAG_THREAD);
        p = hn_varint_put(p, dt);
        p = hn_varint_put(p, thread);
        w->thread = thread;
    } else {
        *p++ = (unsigned char)kind;
        p = hn_varint_put(p, dt);
    }
    return p;
}

static inline unsigned char *hn_tw_callsite(hn_trace_writer *w, unsigned char *p, uint64_t site)
{
    if (w->flags & HN_TRACE_F_CALLSITES) {
        p = hn_varint_put(p, hn_zigzag((int64_t)(site - w->callsite)));
        w->callsite = site;
    }
    return p;
}

static inline void hn_tw_end(hn_trace_writer *w, unsigned char *p)
{
    w->pos = p;
    w->count++;
    if (p >= w->limit)
        hn_trace_writer_flush(w, 0);
}

/* A new object of size bytes by malloc, calloc or (align_log2 > 0 or kind ALIGNED) the
 * memalign family. Returns its id. */
static inline uint64_t hn_trace_put_alloc(hn_trace_writer *w, unsigned kind, uint64_t time,
                                          uint32_t thread, uint64_t size, unsigned align_log2,
                                          uint64_t callsite)
{
    unsigned char *p = hn_tw_begin(w, kind, time, thread);
    p = hn_varint_put(p, size);
    if (kind == HN_EV_ALIGNED)
        *p++ = (unsigned char)align_log2;
    p = hn_tw_callsite(w, p, callsite);
    uint64_t id = w->next_id++; /* before hn_tw_end, which may start the next chunk */
    hn_tw_end(w, p);
    return id;
}

/* The end of object id (id < w->next_id). */
static inline void hn_trace_put_free(hn_trace_writer *w, uint64_t time, uint32_t thread,
                                     uint64_t id)
{
    unsigned char *p = hn_tw_begin(w, HN_EV_FREE, time, thread);
    p = hn_varint_put(p, w->next_id - 1 - id);
    hn_tw_end(w, p);
}

/* Object old_id replaced by a new object of size bytes. Returns the new id. */
static inline uint64_t hn_trace_put_realloc(hn_trace_writer *w, uint64_t time, uint32_t thread,
                                            uint64_t old_id, uint64_t size, uint64_t callsite)
{
    unsigned char *p = hn_tw_begin(w, HN_EV_REALLOC, time, thread);
    p = hn_varint_put(p, w->next_id - 1 - old_id);
    p = hn_varint_put(p, size);
    p = hn_tw_callsite(w, p, callsite);
    uint64_t id = w->next_id++; /* before hn_tw_end, which may start the next chunk */
    hn_tw_end(w, p);
    return id;
}

#endif
