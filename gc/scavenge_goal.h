/* gc/scavenge_goal.h: how much memory the scavenger returns to the OS, and how
 * fast: Go's gcPaceScavenger and allocation-time scavenging (mgcscavenge.go,
 * mheap.go) as pure functions. The page heap (alloc/) does the releasing; this
 * module only says how much.
 *
 * Two goals, recomputed after every cycle:
 *   - GOGC goal: retain what the heap will need, (goal / last goal) * last
 *     heap in use (pages, so span fragmentation is counted), plus 10 % so the
 *     allocator rarely faults in released pages; compared with heap retained
 *     (in-use + free-but-backed heap pages).
 *   - memory-limit goal: 95 % of GOMEMLIMIT, compared with all mapped-ready
 *     memory; aiming under the limit makes the scavenger work hard as soon as
 *     the program comes close to it.
 * The background scavenger runs while either goal is unmet, at about 1 % of
 * the CPU. On top of that, an allocation that would take mapped memory over
 * the limit releases the difference at once (forced), and one that grew the
 * heap past the GOGC goal releases up to the growth.
 */
#ifndef HERON_GC_SCAVENGE_GOAL_H
#define HERON_GC_SCAVENGE_GOAL_H

#include <stdbool.h>
#include <stdint.h>

/* "No scavenging needed for this goal" (Go stores ^uint64(0)). */
#define HN_SCAVENGE_NONE UINT64_MAX

/* Share of the CPU (of all processors) the background scavenger may use, in
 * percent (Go's scavengePercent = 1): releasing memory is a background
 * courtesy, never worth visible CPU. */
#define HN_SCAVENGE_PERCENT 1

/* Memory kept over the heap's expected need, in percent (retainExtraPercent):
 * a buffer for fragmentation and to avoid page faults on reuse. */
#define HN_SCAVENGE_RETAIN_EXTRA_PERCENT 10

/* How far under the memory limit the scavenger aims, in percent
 * (reduceExtraPercent): 5 means 95 % of the limit. */
#define HN_SCAVENGE_REDUCE_EXTRA_PERCENT 5

/* Shortest batch of work the background scavenger does before sleeping
 * (minScavWorkTime, 1 ms): shorter sleeps are too imprecise to pace with. */
#define HN_SCAVENGE_MIN_WORK_NS ((int64_t)1000000)

/* Estimated cost of releasing one physical page (Go's
 * approxWorkedNSPerPhysicalPage, 10 us, measured on Linux): used when the
 * caller cannot time the release, and by the rate model. */
#define HN_SCAVENGE_NS_PER_PHYS_PAGE ((int64_t)10000)

typedef struct hn_scavenge_goal_in {
    int64_t memory_limit;      /* GOMEMLIMIT; INT64_MAX = none */
    uint64_t heap_goal;        /* the heap goal now */
    uint64_t last_heap_goal;   /* the goal when the last cycle ended; 0 = none yet */
    uint64_t last_heap_in_use; /* bytes of in-use spans when the last cycle ended */
    uint64_t heap_retained;    /* in-use + free, unreleased heap bytes now */
    uint64_t mapped_ready;     /* all mapped, unreleased bytes now */
    uint64_t phys_page_size;   /* power of two */
} hn_scavenge_goal_in;

typedef struct hn_scavenge_goals {
    uint64_t gc_percent_goal;   /* retain at most this (heap_retained) */
    uint64_t memory_limit_goal; /* keep mapped_ready at most this */
} hn_scavenge_goals;

/* Both goals [gcPaceScavenger]; a goal already met (or, for the GOGC goal,
 * within one physical page, or before the first cycle) is HN_SCAVENGE_NONE. */
hn_scavenge_goals hn_scavenge_goals_compute(const hn_scavenge_goal_in *in);

/* Bytes the background scavenger still has to release to meet both goals
 * (0 when it should stop and park) [shouldStop]. */
uint64_t hn_scavenge_background_remaining(const hn_scavenge_goals *g,
                                          uint64_t heap_retained, uint64_t mapped_ready);

/* Synchronous release for one allocation of pages [mheap.allocSpan]. */
typedef struct hn_scavenge_sync_in {
    int64_t memory_limit;
    bool limiting;             /* GC CPU limiter on: no synchronous release */
    uint64_t mapped_ready;     /* before this allocation */
    uint64_t scav_bytes;       /* released bytes the allocation will fault in */
    uint64_t gc_percent_goal;  /* from hn_scavenge_goals_compute */
    uint64_t heap_retained;    /* before this allocation */
    uint64_t growth;           /* bytes the heap grew for this allocation */
} hn_scavenge_sync_in;

typedef struct hn_scavenge_sync {
    uint64_t bytes; /* release this much now */
    bool force;     /* for the memory limit: ignore the "dense chunk" policy */
} hn_scavenge_sync;

hn_scavenge_sync hn_scavenge_sync_amount(const hn_scavenge_sync_in *in);

/* Background pacing. Go runs a PI controller that hunts for the sleep ratio
 * giving 1 % CPU from noisy timings; with the worked time known, its set point
 * has a closed form: sleep so that worked / ((worked + slept) * procs) = 1 %.
 * worked_ns is floored at 1 ms as Go does. */
int64_t hn_scavenge_sleep_ns(int64_t worked_ns, int32_t procs);

/* CPU-ns the background scavenger may use over wall_ns on procs processors. */
int64_t hn_scavenge_cpu_budget_ns(int64_t wall_ns, int32_t procs);

/* Bytes the background scavenger can release over wall_ns at 1 % CPU when a
 * physical page costs ns_per_page to release (HN_SCAVENGE_NS_PER_PHYS_PAGE
 * if 0 or negative). Whole pages only. */
uint64_t hn_scavenge_rate_bytes(int64_t wall_ns, int32_t procs, int64_t ns_per_page,
                                uint64_t phys_page_size);

#endif
