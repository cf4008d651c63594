/*
 * replay.h: the trace run for real: on heron's collector (replay_gc.c) or on real
 * allocators, one child process each (replay_malloc.c).
 */
#ifndef HN_SIM_REPLAY_H
#define HN_SIM_REPLAY_H

#include <stdint.h>
#include <stdio.h>

#include "sim/costmodel.h"
#include "sim/report.h"

typedef struct hn_replay_sample {
    uint64_t events; /* events replayed */
    int64_t wall_ns; /* since the replay began */
    uint64_t rss;    /* bytes resident */
} hn_replay_sample;

/* `--replay=malloc`: replays trace on each allocator of the comma-separated list and
 * prints the table (and, if csv is not NULL, the RSS samples as CSV). Exit status. */
int hn_replay_malloc(const char *trace, const char *list, const char *csv);
/* The child side, `gcsim replay-child ALLOCATOR TRACE` (run by hn_replay_malloc). */
int hn_cmd_replay_child(int argc, char **argv);

/* `--replay=gc`: replays trace on heron's collector at GOGC gogc and the memory limit
 * (INT64_MAX: none) in a child process, on the trace's time line, and fills run (label,
 * setting, summary; procs: the collector's, the CPUs online), and writes its cycles to
 * `cycles` when it is not NULL (hn_replay_cycles_write, with `cost`). 0, or 1 (message
 * printed). */
int hn_replay_gc(const char *trace, int32_t gogc, int64_t memory_limit, double time_scale,
                 hn_run *run, FILE *cycles, const hn_cost *cost);

/* What one replay on the collector measured, for calibration: the summary plus the sums
 * the cost model is fitted to. */
/* Cycles a replay describes one by one, for calibration (the first ones; enough for a
 * least-squares fit with hundreds of points over a calibration's runs). */
#define HN_REPLAY_CYCLE_SAMPLES 256

typedef struct hn_replay_cycle_sample {
    double pause_ns;     /* this cycle's pauses (two, one more per mark resume), wall */
    double mark_cpu_ns;  /* its marking CPU: background worker and assists */
    hn_cost_scan scan;   /* what the program held when its mark began (its scan work),
                          * the heap then (garbage included) and the pages holding it */
    double goal;         /* the heap goal the collector reported while it marked */
    double live;         /* the heap it marked live (heron_gc_stats' heap_live after) */
} hn_replay_cycle_sample;

typedef struct hn_replay_gc_result {
    hn_summary sum;
    double spans_sum;     /* spans in use at each cycle, summed */
    double trace_ns;      /* the trace's duration */
    double start_unix;    /* when the replay began, seconds since the epoch */
    int32_t procs;        /* the collector's processors (CPUs online) */
    uint32_t nsamples;
    hn_replay_cycle_sample samples[HN_REPLAY_CYCLE_SAMPLES];
} hn_replay_gc_result;

/* The per-cycle CSV (`gcsim calibrate --cycles`, `gcsim --replay=gc --cycles`): the
 * header line, then one line per sampled cycle of a replay (res->samples), `run` naming
 * it. The
 * columns: run, start_unix (when the replay began), cycle, pause_ns, mark_cpu_ns,
 * scanned, streamed, objects, heap, pages (hn_replay_cycle_sample's scan: scanned is its
 * bytes), model_mark_ns (the marking CPU the cost model gives what the mark began
 * with, hn_cost_mark_ns), goal, live, and at_SIZE for each knot (the scan's objects at
 * that knot, costmodel.h). */
void hn_replay_cycles_header(FILE *f);
void hn_replay_cycles_write(FILE *f, const char *run, const hn_replay_gc_result *res,
                            const hn_cost *cost);

/* The same in a child process (so the caller's collector never starts): 0, or 1 with
 * the message printed. */
int hn_replay_gc_measure(const char *trace, int32_t gogc, int64_t memory_limit,
                         double time_scale, hn_replay_gc_result *out);

/* Runs the replay in this process (the collector must not have been started yet):
 * 0, or -1 with a message in err (HN_REPORT_ERR_LEN bytes). */
int hn_replay_gc_run(const char *trace, int32_t gogc, int64_t memory_limit,
                     double time_scale, hn_replay_gc_result *out, char *err);

#endif
