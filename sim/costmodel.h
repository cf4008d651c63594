/*
 * costmodel.h: what the collector's work costs in CPU time, for the simulator.
 *
 * A cycle costs   pause_ns                      its two stop-the-world pauses together
 *                                                (stopping and restarting the world,
 *                                                roots, barrier buffers), wall time
 *               + mark_ns_per_byte * bytes       marking, by the background worker and
 *               + mark_ns_per_object * objects   assists: every byte held when the mark
 *                                                began is scanned, every object found,
 *                                                its mark bit set, queued and popped
 *               + sweep_ns_per_span * spans      sweeping: every span in use is visited
 * (Measured on heron's collector, the per-object term dominates for objects under a
 * few hundred bytes; a per-byte cost alone made small-object heaps 5x too cheap.)
 * `gcsim calibrate` measures the four constants on this machine by running the real
 * collector (gc/) on generated heaps and fitting them; the result is saved in
 * $XDG_CONFIG_HOME/heron/gcsim-calibration (or ~/.config/heron/...), format version
 * HN_COST_FILE_VERSION, and loaded by every later run. Without that file the
 * compiled-in defaults below are used.
 */
#ifndef HN_SIM_COSTMODEL_H
#define HN_SIM_COSTMODEL_H

#include <stddef.h>

typedef struct hn_cost {
    double pause_ns;          /* fixed CPU of one cycle's two pauses together */
    double mark_ns_per_byte;  /* CPU per byte marked */
    double mark_ns_per_object; /* CPU per object marked */
    double sweep_ns_per_span; /* CPU per span swept */
    char source[256];         /* "defaults" or the file it came from */
} hn_cost;

/* The defaults: the medians of five `gcsim calibrate` runs on the development machine
 * (2-core x86-64 VM, shared, load average 3-5, Debian 12, debugoptimized build, heron's
 * concurrent collector as in main on 2026-11-29 at 10:45), 2026-11-29 10:58-11:06 UTC:
 * per byte 0.19-0.30 ns (median 0.26), per object 56-107 ns (79), per span 186-252 ns
 * (217); the pause, the mean of a cycle's two pauses without the longest 5 %, 164 and
 * 175 us (the three earlier runs took the plain mean: 260-355 us; the median cycle's
 * pauses were about 56 us: on this loaded machine most of a pause's mean is
 * preemption). An order of magnitude, not a constant of nature: calibrate on the
 * machine that matters. See docs/gcsim.md "The cost model". */
#define HN_COST_DEFAULT_PAUSE_NS 170000.0
#define HN_COST_DEFAULT_MARK_NS_PER_BYTE 0.26
#define HN_COST_DEFAULT_MARK_NS_PER_OBJECT 79.0
#define HN_COST_DEFAULT_SWEEP_NS_PER_SPAN 217.0

void hn_cost_defaults(hn_cost *c);
/* Path of the calibration file into buf; -1 when neither XDG_CONFIG_HOME nor HOME is
 * set. */
int hn_cost_path(char *buf, size_t len);
/* Loads the calibration file if there is one: 1 loaded, 0 no file (defaults kept),
 * -1 the file is malformed (message in err, HN_COST_ERR_LEN bytes). */
#define HN_COST_ERR_LEN 512
/* The calibration file's format: 2 since the constants are fitted to the concurrent
 * collector (marking CPU per byte and object, pause wall time per cycle); version 1
 * (no version line) held a stop-the-world collector's pause fit. */
#define HN_COST_FILE_VERSION 2
int hn_cost_load(hn_cost *c, const char *path, char *err);
/* Writes c to path, creating the directories: 0, or -1 with a message in err. */
int hn_cost_save(const hn_cost *c, const char *path, const char *comment, char *err);

#endif
