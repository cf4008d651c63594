/*
 * trace_read.h: the one reader of trace.bin; every tool that reads a trace uses it.
 *
 *   char err[HN_TRACE_ERR_LEN];
 *   hn_trace_reader *r = hn_trace_reader_open("trace.bin", err);
 *   if (!r) { fprintf(stderr, "gcsim: error: %s\n", err); ... }
 *   hn_trace_event ev;
 *   int rc;
 *   while ((rc = hn_trace_next(r, &ev)) > 0)
 *       ... use ev ...
 *   if (rc < 0) the trace is corrupt: hn_trace_reader_error(r) says where
 *   else if (hn_trace_reader_warning(r)) it was cut short: the events read are good
 *   hn_trace_reader_close(r);
 *
 * It reads the file as a stream, one chunk at a time, in memory that does not grow with
 * the trace (one buffer as large as the largest chunk, at most 1 MiB). Every length,
 * varint, kind, thread and object reference is checked before it is used, so a corrupt
 * or hostile file gives an error naming the file and the chunk, never a crash or a hang. What it cannot check in
 * constant memory is whether a freed object is still live; tools that keep the live set
 * (hn_liveset) report that. Messages are listed in docs/trace-format.md.
 *
 * The per-event decoding is inline below; reading the next chunk is out of line.
 * The struct's fields are private to this file and trace_read.c.
 */
#ifndef HN_SIM_TRACE_READ_H
#define HN_SIM_TRACE_READ_H

#include <stdint.h>

#include "sim/trace_format.h"

#define HN_TRACE_ERR_LEN 512
#define HN_TRACE_META_KEYS 32 /* metadata entries kept; more is an error */
/* Sizes above 2^48 bytes cannot come from a 64-bit address space: a corrupt value. */
#define HN_TRACE_SIZE_MAX ((uint64_t)1 << 48)

/* What the file header says about the trace. Absent keys read as "" or 0. */
typedef struct hn_trace_header {
    uint32_t version;
    uint32_t flags;             /* HN_TRACE_F_* */
    const char *program;        /* path of the recorded executable */
    const char *args;           /* its command line, arguments separated by spaces */
    const char *generator;      /* what wrote the trace: "heron-record 0.1.0", "gcsim gen ..." */
    const char *clock;          /* the clock of the time stamps: "CLOCK_MONOTONIC" */
    uint64_t start_unix_ns;     /* wall-clock time of time 0 */
    uint64_t pid;               /* process recorded */
    uint64_t parent_pid;        /* for a forked child: the process it was forked from */
    size_t nmeta;               /* every entry, known keys included */
    const char *keys[HN_TRACE_META_KEYS];
    const char *values[HN_TRACE_META_KEYS];
} hn_trace_header;

enum { HN_TR_OK, HN_TR_END, HN_TR_ERROR };

typedef struct hn_trace_reader {
    /* hot: the chunk being decoded */
    const unsigned char *p;
    const unsigned char *end;
    uint32_t left;      /* events left in this chunk */
    uint32_t thread;    /* thread of the last event */
    uint32_t nthreads;  /* threads seen: numbers are dense, each new one is the next */
    uint32_t flags;     /* file flags */
    uint64_t time;
    uint64_t next_id;   /* objects created so far */
    uint64_t callsite;
    uint32_t count;     /* events in this chunk */
    int state;          /* HN_TR_* */
    /* cold */
    int fd;
    uint64_t chunk;     /* index of the chunk being decoded, from 0 */
    uint64_t chunk_offset; /* its byte offset in the file */
    uint64_t offset;    /* bytes read from the file */
    uint64_t events;    /* events returned */
    uint64_t file_size; /* from fstat at open; 0 for a pipe */
    unsigned char *buf; /* payload, followed by HN_CHUNK_PAD zero bytes */
    size_t bufcap;
    int last_seen;      /* the chunk being decoded is flagged last */
    char *meta;
    hn_trace_header hdr;
    char name[256];
    char error[HN_TRACE_ERR_LEN];
    char warning[HN_TRACE_ERR_LEN];
} hn_trace_reader;

/* Opens path ("-" for standard input) and reads its header. On failure returns NULL with
 * a message naming the file in err (HN_TRACE_ERR_LEN bytes). */
hn_trace_reader *hn_trace_reader_open(const char *path, char *err);
/* The same on an open descriptor, which the reader closes; name is used in messages. */
hn_trace_reader *hn_trace_reader_open_fd(int fd, const char *name, char *err);
void hn_trace_reader_close(hn_trace_reader *r);

static inline const hn_trace_header *hn_trace_reader_header(const hn_trace_reader *r)
{
    return &r->hdr;
}
/* The metadata value of key, or NULL. */
const char *hn_trace_meta_get(const hn_trace_reader *r, const char *key);
/* After hn_trace_next returned -1: "trace.bin: chunk 12: bad checksum". */
static inline const char *hn_trace_reader_error(const hn_trace_reader *r)
{
    return r->error;
}
/* After hn_trace_next returned 0: NULL if the trace ended with its last chunk, else why
 * the events read are all there is ("trace.bin: cut short after chunk 11 ..."). */
static inline const char *hn_trace_reader_warning(const hn_trace_reader *r)
{
    return r->warning[0] ? r->warning : NULL;
}
/* Threads seen so far, objects created so far, bytes read so far, chunks so far. */
static inline uint32_t hn_trace_reader_threads(const hn_trace_reader *r)
{
    return r->events ? r->nthreads : 0;
}
static inline uint64_t hn_trace_reader_objects(const hn_trace_reader *r)
{
    return r->next_id;
}
static inline uint64_t hn_trace_reader_bytes(const hn_trace_reader *r)
{
    return r->offset;
}
/* The file's size when opened (0 when it is a pipe): with hn_trace_reader_bytes, how far
 * through the trace a reader is, for a progress bar. */
static inline uint64_t hn_trace_reader_file_size(const hn_trace_reader *r)
{
    return r->file_size;
}

/* Out of line: loads the next chunk (1), or ends the trace (0) or fails (-1). */
int hn_trace_reader_refill(hn_trace_reader *r);
/* Out of line: records an error about the current event; returns -1. */
int hn_trace_reader_bad_event(hn_trace_reader *r, const char *fmt, unsigned long long v);

/* Reads the next event into *ev: 1, or 0 at the end of the trace, or -1 on an error. */
static inline int hn_trace_next(hn_trace_reader *r, hn_trace_event *ev)
{
    while (r->left == 0) {
        int rc = hn_trace_reader_refill(r);
        if (rc <= 0)
            return rc;
    }
    const unsigned char *p = r->p;
    unsigned tag = *p++;
    unsigned kind = tag & HN_TAG_KIND_MASK;
    uint64_t v;

    if (__builtin_expect(tag > HN_TAG_KNOWN || kind >= HN_EV_NKINDS, 0))
        return hn_trace_reader_bad_event(r, "bad event tag 0x%llx", tag);
    if (!(p = hn_varint_get(p, &v)))
        goto bad_varint;
    if (__builtin_expect(r->time + v < r->time, 0))
        return hn_trace_reader_bad_event(r, "time overflows by %llu ns", v);
    r->time += v;
    if (tag & HN_TAG_THREAD) {
        if (!(p = hn_varint_get(p, &v)))
            goto bad_varint;
        if (v >= r->nthreads) {
            if (v != r->nthreads)
                return hn_trace_reader_bad_event(r, "thread %llu appears before the threads "
                                                    "numbered below it", v);
            r->nthreads++;
        }
        r->thread = (uint32_t)v;
    }
    ev->time_ns = r->time;
    ev->thread = r->thread;
    ev->kind = (uint8_t)kind;
    ev->old_id = 0;
    ev->align_log2 = 0;
    ev->callsite = 0;
    if (kind == HN_EV_FREE || kind == HN_EV_REALLOC) {
        if (!(p = hn_varint_get(p, &v)))
            goto bad_varint;
        if (__builtin_expect(v >= r->next_id, 0))
            return hn_trace_reader_bad_event(r, "reference to an object never created "
                                                "(%llu back)", v);
        ev->old_id = r->next_id - 1 - v;
        if (kind == HN_EV_FREE) {
            ev->id = ev->old_id;
            ev->old_id = 0;
            ev->size = 0;
            goto done;
        }
    }
    if (!(p = hn_varint_get(p, &ev->size)))
        goto bad_varint;
    if (__builtin_expect(ev->size > HN_TRACE_SIZE_MAX, 0))
        return hn_trace_reader_bad_event(r, "size %llu is larger than an address space",
                                         ev->size);
    if (kind == HN_EV_ALIGNED) {
        ev->align_log2 = *p++;
        if (ev->align_log2 > 47)
            return hn_trace_reader_bad_event(r, "alignment 2^%llu is larger than an address "
                                                "space", ev->align_log2);
    }
    if (r->flags & HN_TRACE_F_CALLSITES) {
        if (!(p = hn_varint_get(p, &v)))
            goto bad_varint;
        r->callsite += (uint64_t)hn_unzigzag(v);
        ev->callsite = r->callsite;
    }
    ev->id = r->next_id++;
done:
    if (__builtin_expect(p > r->end, 0))
        return hn_trace_reader_bad_event(r, "event runs %llu bytes past the end of the chunk",
                                         (unsigned long long)(p - r->end));
    r->p = p;
    r->left--;
    r->events++;
    return 1;
bad_varint:
    return hn_trace_reader_bad_event(r, "varint longer than 64 bits%.0llu", 0);
}

#endif
