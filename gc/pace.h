/*
 * pace.h: the collector's side of the pacer. The pure modules (pacer, limiter,
 * scavenge_goal, settings, gctrace) compute; this file feeds them what the running
 * collector measures, publishes their answers to allocating threads as atomics, prints
 * the gctrace line and runs the background scavenger.
 *
 * Lock: `pace_lock` (pace.c) serialises every call into the pacer and the limiter. It
 * is a leaf, and never taken while the world is stopped: reading the allocator's
 * memory counts takes the page heap lock, which a stopped thread may hold.
 */
#ifndef HN_GC_PACE_H
#define HN_GC_PACE_H

#include <stdbool.h>
#include <stdint.h>

#include "heron/gc.h"

/* Published for allocating threads (relaxed atomics): scan work owed per allocated
 * byte while marking, and allocation bytes one unit of scan work pays for, both in
 * 1/65536 units. */
extern uint64_t hn_pace_work_per_byte_fx, hn_pace_bytes_per_work_fx;
#define HN_PACE_FX_ONE 65536.0

/* Settings from heron_gc_init's config (0 = environment) and the environment (GOGC,
 * GOMEMLIMIT, HERON_GCTRACE / GODEBUG=gctrace=1); bad values print one warning line
 * each and keep the default. Starts the scavenger thread unless no_scavenger. */
int hn_pace_init(int cfg_gogc, int64_t cfg_limit, bool no_scavenger);

/* What one cycle measured; filled by the collector, given to hn_pace_cycle_end. */
typedef struct hn_pace_cycle {
  uint64_t num;            /* this cycle's number, from 1 */
  int64_t start_ns;        /* sweep termination began */
  int64_t stw1_ns, mark_ns, stw2_ns; /* wall times */
  /* Each pause's parts (wall): signals sent until every thread stopped, the work with
   * the world stopped, sending the restart. */
  int64_t stop1_ns, work1_ns, restart1_ns, stop2_ns, work2_ns, restart2_ns;
  /* Mark terminations that found more work and resumed marking (collector.c); their
   * pauses, within mark_ns, each went to hn_pace_mark_resumed. */
  int mark_resumes;
  int64_t mark_start_ns;   /* world restarted after the first pause */
  int64_t mark_end_ns;     /* mark termination began */
  int64_t assist_ns, background_ns; /* CPU */
  uint64_t heap_start;     /* pacer's heap_live at the first pause */
  uint64_t heap_end;       /* ... at mark termination */
  uint64_t marked;         /* live heap after the cycle */
  uint64_t marked_scan;    /* heap bytes scanned */
  uint64_t stacks, globals;
  bool forced;
} hn_pace_cycle_t;

/* Marking began (after the first pause, world running). */
void hn_pace_mark_start(hn_pace_cycle_t *c);
/* A mark termination found more work and resumed marking: the world was stopped from
 * pause_start_ns for stw_ns, every processor's GC time, for the CPU limiter and the
 * pause CPU statistic as the cycle's two pauses are. */
void hn_pace_mark_resumed(int64_t pause_start_ns, int64_t stw_ns);
/* Progress while marking: refresh the assist ratio. */
void hn_pace_mark_revise(uint64_t heap_live, int64_t scan_work_done);
/* Marking ended and the world runs again: end the pacer's cycle, count, trace. */
void hn_pace_cycle_end(hn_pace_cycle_t *c);
/* The heap goal of the cycle in progress (or the next one). */
uint64_t hn_pace_goal(void);

/* Mark assists: nonzero while the CPU limiter is limiting (assists are skipped). */
bool hn_pace_limiting(void);
/* CPU-ns an assist spent, for the limiter and the statistics. */
void hn_pace_note_assist(int64_t ns);

/* Release memory now if mapped memory is over the memory limit (allocation path). */
void hn_pace_sync_scavenge(void);

/* Statistics of pacing (gc.h's fields of the same names). */
void hn_pace_stats(heron_gc_stats_t *out);

int64_t hn_pace_now_ns(void);
/* The calling thread's CPU time. */
int64_t hn_pace_thread_cpu_ns(void);
int32_t hn_pace_procs(void);

#endif
