/* gc/limiter.h: the GC CPU limiter, Go's gcCPULimiterState (mgclimit.go) as a
 * pure module.
 *
 * A leaky bucket measured in CPU-nanoseconds. GC CPU time fills it, mutator
 * CPU time drains it, one for one, so over any long window the GC can take at
 * most about half of the CPU before the bucket is full. While it is full the
 * limiter is "limiting": the collector skips mark assists (and the allocation
 * path skips synchronous scavenging), trading heap growth past the goal for
 * CPU, which is what stops a memory limit that cannot be met from turning
 * into a death spiral. The bucket never goes below empty, so idle time earns
 * no credit for a later spike.
 *
 * What counts, per update window of (now - last_update) * procs CPU-ns:
 *   GC time      = assist time (mark assists + scavenge assists) reported
 *                  since the last update, plus 25 % of the window while the
 *                  GC is marking (background workers, assumed on target);
 *   total time   = the window minus idle time (idle Ps and idle-priority
 *                  mark work: time the program did not want);
 *   mutator time = total - GC time.
 * Stop-the-world pauses count the whole window as GC time (every P is kept
 * from running the program), via the transition calls.
 *
 * Explicit time: every call takes `now_ns` from the caller's clock (monotonic
 * nanoseconds), so the simulator can run it on a virtual clock. Not
 * thread-safe; the collector serialises calls (Go uses a try-lock and drops
 * an update that loses the race, which the caller may do too).
 */
#ifndef HERON_GC_LIMITER_H
#define HERON_GC_LIMITER_H

#include <stdbool.h>
#include <stdint.h>

/* Bucket capacity per processor (Go's capacityPerProc, 1 CPU-second): the
 * window the limiter looks at. It turns on only after a full CPU-second per P
 * of GC time beyond mutator time, so short GC spikes pass untouched. */
#define HN_LIMITER_CAPACITY_PER_PROC_NS ((uint64_t)1000000000)

/* Longest wall time between updates (Go's gcCPULimiterUpdatePeriod, 10 ms):
 * the limiter reacts within about this long. */
#define HN_LIMITER_UPDATE_PERIOD_NS ((int64_t)10000000)

typedef struct hn_limiter {
    uint64_t fill;         /* CPU-ns in the bucket; 0 <= fill <= capacity */
    uint64_t capacity;     /* procs * 1 s */
    uint64_t overflow;     /* GC CPU-ns that did not fit (work "dropped") */
    bool enabled;          /* limiting: the bucket is full */
    bool gc_enabled;       /* marking: background workers count as GC */
    bool transitioning;    /* inside a stop-the-world transition */
    int32_t procs;
    int64_t start_ns;      /* when the limiter was created */
    int64_t last_update_ns;
    uint64_t activations;      /* times it went from off to limiting */
    uint32_t last_enabled_cycle; /* cycle (1-based) that last had it on */
    uint32_t cycle;        /* completed GC cycles, from the transitions */
    int64_t enabled_ns;    /* wall time spent limiting */
} hn_limiter;

/* Start at `now_ns` with an empty bucket sized for `procs` processors. */
void hn_limiter_init(hn_limiter *l, int64_t now_ns, int32_t procs);

/* True while limiting: skip assists and synchronous scavenging. */
static inline bool hn_limiter_limiting(const hn_limiter *l)
{
    return l->enabled;
}

/* True when the last update is older than the update period. */
static inline bool hn_limiter_need_update(const hn_limiter *l, int64_t now_ns)
{
    return now_ns - l->last_update_ns > HN_LIMITER_UPDATE_PERIOD_NS;
}

/* Account the window since the last update. assist_ns: CPU time in mark and
 * scavenge assists since the last update; idle_ns: CPU time Ps were idle or
 * ran idle-priority mark work since the last update. A `now_ns` in the past is
 * ignored, as in Go. Not during a transition. */
void hn_limiter_update(hn_limiter *l, int64_t now_ns, int64_t assist_ns, int64_t idle_ns);

/* The bucket itself: add mutator_ns of draining and gc_ns of filling. Updates
 * `enabled`, `overflow` and `activations`. Exposed for tests and for callers
 * that measure GC and mutator CPU directly. */
void hn_limiter_accumulate(hn_limiter *l, int64_t mutator_ns, int64_t gc_ns);

/* A stop-the-world pause that turns marking on (enable_gc) or off begins at
 * now_ns: flush the window before it. assist_ns/idle_ns as for update. */
void hn_limiter_start_transition(hn_limiter *l, bool enable_gc, int64_t now_ns,
                                 int64_t assist_ns, int64_t idle_ns);

/* The pause ends at now_ns: all of it, times procs, is GC time. Ending the
 * mark phase (enable_gc was false) counts a completed cycle. */
void hn_limiter_finish_transition(hn_limiter *l, int64_t now_ns);

/* The processor count changed (not while marking): flush, then resize. */
void hn_limiter_reset_capacity(hn_limiter *l, int64_t now_ns, int32_t procs);

/* Fraction of wall time since init that the limiter was limiting, in [0, 1]
 * (the enabled time is counted at update granularity). */
double hn_limiter_enabled_fraction(const hn_limiter *l, int64_t now_ns);

#endif
