/*
 * costmodel.h: what the collector's work costs in CPU time, for the simulator.
 *
 * A cycle costs   pause_ns                      its two stop-the-world pauses together
 *                                                (stopping and restarting the world,
 *                                                roots, barrier buffers), wall time
 *               + the cost of each object        marking, by the background worker and
 *                   held when the mark began     assists: every object found, its mark
 *               + mark_ns_per_streamed_byte      bit set, queued, popped and its words
 *                   * streamed bytes             scanned
 *               + mark_ns_per_page * pages       every 8 KiB page holding one of them
 *               + sweep_ns_per_span * spans      sweeping: every span in use is visited
 * An object's cost depends on its size (as the collector holds it, class-rounded): it
 * is mark_ns_at[k] for an object of hn_cost_knot_bytes[k] bytes, linear between two
 * knots, and for an object over the last knot (1 KiB), the last knot's cost plus its
 * streamed bytes. Measured on heron's collector (docs/gcsim.md "The cost model"), the
 * cost is not a line in the size: in calibrate's one-size heaps 16-byte objects mark
 * dearer than 32-byte ones and 48-byte ones dearer than 64-byte ones, and with one cost
 * per object and one per byte (cost files before version 7) python-json's marks
 * (mostly 32- and 64-byte objects) were priced 4-25 % dear and steady-large's (median
 * 512 bytes) 36-41 % cheap, where the knots price them 3-16 % dear and 18-20 % cheap
 * (sim/tools/cost_check.sh, medians of three rounds).
 * The per-object cost grows with the memory the mark walks, the 8 KiB pages holding a
 * live object: mark_ns_per_object_uncached more times 1 - cache_bytes / (their bytes)
 * above cache_bytes (the share of objects a random walk misses the cache for).
 * Measured on heron's collector: heaps of 64-byte objects marked 20-27 % under the
 * one-constant fit at 4 MiB live and GOGC=50 (6 MiB of heap), in three calibrations out
 * of three. The pages, not the heap: garbage on pages of its own is never walked
 * (python-json frees a page at a time). With the heap in the share (cost files before
 * version 6) and no heap under 4 MiB in the calibration, python-json's marks at
 * GOGC=200 came out 28-37 % dear; with the pages and a 1 MiB heap, -6 to +35 % (three
 * calibrations each, alternating: docs/gcsim.md "The cost model").
 * An object's bytes past its first HN_COST_STREAM_AFTER are "streamed": the scan reads
 * them in order and the hardware prefetcher has them in cache in time, where the first
 * ones are a miss at a random address. (Measured on heron's collector: objects of 8
 * and 64 KiB marked at about half the per-byte cost of 1 KiB ones, and the model with
 * one per-byte cost put their GC CPU 70-110 % above the replays.)
 * A page costs on its own (its translation, its span's metadata): the same live
 * objects mark dearer spread over more pages, at a higher GOGC or in a program whose
 * objects die one by one rather than a page at a time; the simulation counts the pages
 * with sim/placement.h. (Measured on heron's collector, `gcsim calibrate`'s table in
 * docs/gcsim.md: 4 MiB of 64-byte objects, 42 objects an 8 KiB page and 88 ns an
 * object to mark at GOGC=50; 23 a page and 103 ns at GOGC=200.)
 * `gcsim calibrate` measures the constants on this machine by running the real
 * collector (gc/) on generated heaps and fitting them; the result is saved in
 * $XDG_CONFIG_HOME/heron/gcsim-calibration (or ~/.config/heron/...), format version
 * HN_COST_FILE_VERSION, and loaded by every later run. Without that file the
 * compiled-in defaults below are used.
 */
#ifndef HN_SIM_COSTMODEL_H
#define HN_SIM_COSTMODEL_H

#include <stddef.h>
#include <stdint.h>

/* The object sizes at which the model has a cost per object (the knots); an object
 * between two is priced on the line between their costs. Where the cost was seen to
 * bend: each size up to a cache line, then doubling to HN_COST_STREAM_AFTER. */
#define HN_COST_KNOTS 8
extern const double hn_cost_knot_bytes[HN_COST_KNOTS];

typedef struct hn_cost {
    double pause_ns;          /* fixed CPU of one cycle's pauses together */
    /* CPU to mark one object of hn_cost_knot_bytes[k] bytes, in a heap the cache holds
     * (the bytes of a larger object past the last knot are streamed) */
    double mark_ns_at[HN_COST_KNOTS];
    double mark_ns_per_streamed_byte; /* CPU per byte marked past an object's first KiB */
    double mark_ns_per_object_uncached; /* more per object, times the uncached share */
    double cache_bytes;       /* the live pages' bytes the marker's cache holds (0: none) */
    int cache_of_heap;        /* 1: cache_bytes is of the heap in use (files before v6) */
    double mark_ns_per_page;  /* CPU per 8 KiB page holding a live object at the mark */
    double sweep_ns_per_span; /* CPU per span swept */
    char source[256];         /* "defaults" or the file it came from */
} hn_cost;

/* The defaults: the means of two `gcsim calibrate` runs on the development machine
 * (2-core x86-64 VM, shared, quiet: load average under 1.7, Debian 12, debugoptimized
 * build, heron's concurrent collector as in main on 2026-12-05 at 15:30), 15:34 and
 * 15:50 UTC, when the model had one cost per object and one per byte (the knots' costs
 * are that line at their sizes): pause 88.6 and 92.1 us; per byte 0.314 and 0.330 ns in
 * an object's first KiB, 0.109 and 0.107 ns past it; per object 65.5 and 63.9 ns. The
 * sweep cost per span: the mean of 315, 324 and 350 ns in three runs of `gcsim
 * calibrate --dry-run` the same day at 17:35-17:37 UTC, the first fitted per span
 * (those of 15:34 and 15:50, per span page, gave 205 and 192 ns a page). (The defaults
 * before streamed bytes, from five runs on 2026-11-29 with the machine loaded: 170 us,
 * 0.26 ns a byte, 79 ns an object.) An order of magnitude, not a constant of nature:
 * calibrate on the machine that matters. See docs/gcsim.md "The cost model". */
#define HN_COST_DEFAULT_PAUSE_NS 90000.0
#define HN_COST_DEFAULT_MARK_NS_PER_BYTE 0.32
#define HN_COST_DEFAULT_MARK_NS_PER_OBJECT 65.0
#define HN_COST_DEFAULT_SWEEP_NS_PER_SPAN 330.0
/* Where an object's streamed bytes begin (the scan's first KiB of an object is read
 * at the cost of scattered memory), and their default cost (above). */
#define HN_COST_STREAM_AFTER 1024u
#define HN_COST_DEFAULT_MARK_NS_PER_STREAMED_BYTE 0.108

#define HN_COST_DEFAULT_MARK_NS_PER_OBJECT_UNCACHED 0.0
#define HN_COST_DEFAULT_CACHE_BYTES 0.0
#define HN_COST_DEFAULT_MARK_NS_PER_PAGE 0.0

/* The bytes of a page the cost model counts (the allocator's page). */
#define HN_COST_PAGE_BYTES 8192.0

/* The per-object cost of a mark that walks walked_bytes of memory, over its cost in
 * the cache. */
static inline double hn_cost_uncached(double uncached, double cache, double walked_bytes)
{
    double miss = walked_bytes > cache && walked_bytes > 0 ? 1 - cache / walked_bytes : 0;
    return uncached * miss;
}

/* What a mark scans, as the model prices it: the objects held when it began, each
 * split between the knots around its size (hn_cost_scan_add), and their sums. */
typedef struct hn_cost_scan {
    double at[HN_COST_KNOTS]; /* objects at each knot's size */
    double bytes;             /* their bytes (class-rounded) */
    double streamed;          /* of those, the bytes past each object's first KiB */
    double objects;           /* objects */
    double heap;              /* bytes of objects in the heap, garbage included */
    double pages;             /* 8 KiB pages holding one of them */
} hn_cost_scan;

/* Adds count objects of size bytes to s's knots, bytes, streamed bytes and objects. */
void hn_cost_scan_add(hn_cost_scan *s, double size, double count);
/* The same for count objects each over the last knot, of bytes together. */
void hn_cost_scan_add_large(hn_cost_scan *s, double bytes, double count);
/* Adds the objects held by size class: in_class[c] objects of class c's size (alloc/'s
 * size classes), and in_class[0] large ones of large_bytes together. */
void hn_cost_scan_add_classes(hn_cost_scan *s, const uint64_t *in_class, uint64_t large_bytes);

/* A mark's CPU for what it scans (heap only for a cost file before version 6). The
 * simulation charges it and calibrate fits it. */
double hn_cost_mark_ns(const hn_cost *c, const hn_cost_scan *s);

/* The streamed bytes of an object of `size` bytes (as the collector holds it). */
static inline unsigned long long hn_cost_streamed(unsigned long long size)
{
    return size > HN_COST_STREAM_AFTER ? size - HN_COST_STREAM_AFTER : 0;
}

void hn_cost_defaults(hn_cost *c);
/* Path of the calibration file into buf; -1 when neither XDG_CONFIG_HOME nor HOME is
 * set. */
int hn_cost_path(char *buf, size_t len);
/* Loads the calibration file if there is one: 1 loaded, 0 no file (defaults kept),
 * -1 the file is malformed (message in err, HN_COST_ERR_LEN bytes). */
#define HN_COST_ERR_LEN 512
/* The calibration file's format: 7 since an object's cost is priced at the knots (older
 * files' cost per object and per byte give the knots' costs: the same line); 6 since the cache term's share is of the pages holding
 * a live object (older files keep theirs of the heap in use); 5 since marking has a cost
 * per page holding a live object (older files are read without it); 4 since the sweep cost
 * is fitted per span (the model counts spans; versions 2 and 3 fitted it per span page,
 * which put heaps of multi-page spans at a third of their sweeping, and are read still,
 * their sweep cost as it is); 3 since streamed bytes have their own cost; 2 (its per-byte
 * cost taken for streamed bytes too) since the constants are fitted to the concurrent
 * collector (marking CPU per byte and object, pause wall time per cycle); version 1 (no
 * version line) held a stop-the-world collector's pause fit. */
#define HN_COST_FILE_VERSION 7
int hn_cost_load(hn_cost *c, const char *path, char *err);
/* Writes c to path, creating the directories: 0, or -1 with a message in err. */
int hn_cost_save(const hn_cost *c, const char *path, const char *comment, char *err);

#endif
