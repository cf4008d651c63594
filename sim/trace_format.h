/*
 * trace_format.h: the constants of trace.bin and the varint coding both sides use.
 *
 * docs/trace-format.md specifies the file byte by byte; this header is its mirror
 * and must change with it. In short:
 *
 *   file   = file header, chunk*, the last chunk flagged HN_CHUNK_LAST
 *   header = magic[8] version:u32 flags:u32 meta_len:u32 crc:u32 meta[meta_len]
 *            (crc covers the 20 bytes before it and the metadata)
 *   chunk  = magic:u32 flags:u32 payload_len:u32 count:u32 base_time:u64 base_id:u64
 *            payload_crc:u32 header_crc:u32 payload[payload_len]
 *   event  = tag:u8 dtime:varint [thread:varint] fields by kind [callsite:svarint]
 *
 * All fixed-width integers are little-endian; varints are unsigned LEB128 of at most
 * 10 bytes. New objects take the next dense id implicitly (id = objects created so
 * far), so an allocation stores no id at all, and a free stores how far back its
 * object was created.
 */
#ifndef HN_SIM_TRACE_FORMAT_H
#define HN_SIM_TRACE_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HN_TRACE_MAGIC "\x89HNTRC\r\n" /* 8 bytes; the high byte and CR LF catch text-mode copies */
#define HN_TRACE_MAGIC_LEN 8
#define HN_TRACE_VERSION 1u
#define HN_TRACE_FILE_HEADER_LEN 24u  /* magic, version, flags, meta_len, meta_crc */
#define HN_TRACE_META_MAX 65536u      /* program, arguments and a few numbers fit many times */

#define HN_TRACE_F_CALLSITES 1u       /* file flag: allocation events carry a call site */
#define HN_TRACE_F_KNOWN HN_TRACE_F_CALLSITES

#define HN_CHUNK_MAGIC 0x4b43484eu    /* "NHCK" read as bytes: 'N' 'H' 'C' 'K' */
#define HN_CHUNK_HEADER_LEN 40u
#define HN_CHUNK_LAST 1u              /* chunk flag: the writer closed the trace after it */
#define HN_CHUNK_F_KNOWN HN_CHUNK_LAST
/* A chunk's payload is at most 1 MiB: it bounds what a reader allocates and reads on
 * the word of a (checksummed) length field. Writers use far less (see trace_write.h). */
#define HN_CHUNK_PAYLOAD_MAX (1u << 20)
/* Bytes a reader keeps zeroed past a payload, so a varint that runs off the end stops
 * in the padding and is caught by one bounds check per event instead of one per byte. */
#define HN_CHUNK_PAD 64u
/* The most bytes one event takes: tag, 5 varints of at most 10 bytes, alignment. */
#define HN_EVENT_MAX 64u

/* Event kinds, the low 3 bits of the tag. Every kind but FREE creates an object. */
enum hn_trace_kind {
    HN_EV_MALLOC = 0,  /* size */
    HN_EV_CALLOC = 1,  /* size (count * element size) */
    HN_EV_REALLOC = 2, /* old object back-reference, size; the old object ends here */
    HN_EV_ALIGNED = 3, /* size, log2 of the alignment: the memalign family */
    HN_EV_FREE = 4,    /* object back-reference */
    HN_EV_NKINDS = 5,
};
#define HN_TAG_KIND_MASK 7u
#define HN_TAG_THREAD 8u    /* a thread number follows the time delta */
#define HN_TAG_KNOWN 15u    /* the upper four tag bits must be zero */

/* One decoded event: what every tool sees. */
typedef struct hn_trace_event {
    uint64_t time_ns;  /* since the trace started, monotonic clock */
    uint64_t id;       /* the object created (or, for FREE, ended) */
    uint64_t old_id;   /* REALLOC: the object it replaced; otherwise 0 */
    uint64_t size;     /* bytes asked for; 0 for FREE */
    uint64_t callsite; /* return address of the allocation call, 0 if not recorded */
    uint32_t thread;   /* dense thread number, 0 for the first thread seen */
    uint8_t kind;      /* enum hn_trace_kind */
    uint8_t align_log2; /* ALIGNED: log2 of the alignment; otherwise 0 */
} hn_trace_event;

const char *hn_trace_kind_name(unsigned kind);

/* Little-endian fixed-width helpers. */
static inline void hn_put_u32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4);
}
static inline void hn_put_u64(unsigned char *p, uint64_t v)
{
    memcpy(p, &v, 8);
}
static inline uint32_t hn_get_u32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static inline uint64_t hn_get_u64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Writes v as an unsigned LEB128 varint at p; returns the byte after it. */
static inline unsigned char *hn_varint_put(unsigned char *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

/* The general case of hn_varint_get: any length up to 10 bytes. */
static inline const unsigned char *hn_varint_get_long(const unsigned char *p, uint64_t *v)
{
    uint64_t r = 0, b;
    for (unsigned shift = 0; shift < 63; shift += 7) {
        b = *p++;
        r |= (b & 0x7f) << shift;
        if (b < 0x80) {
            *v = r;
            return p;
        }
    }
    b = *p++; /* tenth byte: only bit 63 is left */
    if (b > 1)
        return NULL;
    *v = r | (b << 63);
    return p;
}

/* Reads a varint at p into *v; returns the byte after it, or NULL when it is longer than
 * 10 bytes or its tenth byte overflows 64 bits. Reads at most 10 bytes: callers keep
 * HN_CHUNK_PAD readable bytes after the data and check the returned position. The one-
 * and two-byte cases, nearly all of a trace's, are tested first without a loop. */
static inline const unsigned char *hn_varint_get(const unsigned char *p, uint64_t *v)
{
    uint64_t b0 = p[0];
    if (b0 < 0x80) {
        *v = b0;
        return p + 1;
    }
    uint64_t b1 = p[1];
    if (b1 < 0x80) {
        *v = (b0 & 0x7f) | b1 << 7;
        return p + 2;
    }
    return hn_varint_get_long(p, v);
}

/* Signed values (call-site deltas) zigzag-coded so small magnitudes stay short. */
static inline uint64_t hn_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static inline int64_t hn_unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

#endif
