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

/* The defaults: `gcsim calibrate` on the development machine (2-core x86-64 VM under
 * paravirtual paging, Debian 12, heron's stop-the-world collector as merged in main at
 * 2026-11-29 09:15, debugoptimized build): mark 0.1965 ns/byte and 65.81 ns/object, sweep
 * 196.00 ns/span, rounded. A second calibration a minute later gave 0.27, 83 and 170;
 * earlier ones, on a busier machine or an earlier collector, up to 5x more per object:
 * these are an order of magnitude, not a constant of nature; calibrate on the machine
 * that matters. The fit put the fixed cost at 0 (lost in the noise); 20 us stands for
 * stopping and restarting the world, the order of Go's own pauses. See docs/gcsim.md
 * "The cost model". */
#define HN_COST_DEFAULT_PAUSE_NS 20000.0
#define HN_COST_DEFAULT_MARK_NS_PER_BYTE 0.2
#define HN_COST_DEFAULT_MARK_NS_PER_OBJECT 65.0
#define HN_COST_DEFAULT_SWEEP_NS_PER_SPAN 195.0

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
