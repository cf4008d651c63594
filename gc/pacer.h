/* gc/pacer.h: the GC pacer, Go's gcControllerState as a pure C module.
 *
 * The pacer decides when a collection cycle starts (the trigger), how big the
 * heap may grow before it ends (the goal), how much scan work an allocating
 * thread owes per byte it allocates while marking (the assist ratio), and how
 * many background mark workers run. It has no threads, no I/O and no globals:
 * every input comes in through arguments or the hn_pacer struct and every
 * output goes back the same way, so the real collector (gc/) and the simulator
 * (sim/gcsim) drive the same code and get the same answers.
 *
 * Units: bytes for every size, nanoseconds for every time (wall or CPU as the
 * field says). "Off" settings: gogc < 0 is GOGC=off; memory_limit ==
 * HN_PACER_NO_LIMIT (INT64_MAX, Go's math.MaxInt64) is GOMEMLIMIT=off.
 *
 * One cycle, in the order the caller makes the calls (Go's names in brackets):
 *   1. hn_pacer_init once; hn_pacer_set_gogc / hn_pacer_set_memory_limit and
 *      hn_pacer_commit whenever a setting changes.
 *   2. Between cycles, start one when hn_pacer_should_start says so
 *      (heap_live >= trigger) [gcTrigger.test].
 *   3. hn_pacer_start_cycle in the first pause: workers, assist ratio
 *      [startCycle].
 *   4. While marking, hn_pacer_revise whenever heap_live or the scan work
 *      done moves [revise]; allocating threads ask hn_pacer_assist_plan what
 *      they owe [gcAssistAlloc].
 *   5. hn_pacer_end_cycle at mark termination with what was measured: it
 *      updates cons/mark, resets the live heap and recomputes goal and
 *      runway [endCycle + resetLive + commit].
 *
 * Not thread-safe: the caller serialises calls (the collector holds its pacer
 * lock or has the world stopped; the simulator is single-threaded). Values
 * that allocating threads read while marking (assist_work_per_byte,
 * assist_bytes_per_work, the trigger) are the collector's to publish to them,
 * e.g. through atomics, after each call that changes them.
 * Formulas and where each comes from: docs/pacer.md.
 */
#ifndef HERON_GC_PACER_H
#define HERON_GC_PACER_H

#include <stdbool.h>
#include <stdint.h>

/* GOMEMLIMIT=off: Go's math.MaxInt64, "no limit in practice". */
#define HN_PACER_NO_LIMIT INT64_MAX

/* GOGC=off as the pacer stores it (Go normalises every negative GOGC to -1). */
#define HN_PACER_GOGC_OFF (-1)

/* Target CPU utilisation of background marking as a fraction of the
 * processors (Go's gcBackgroundUtilization = gcGoalUtilization = 0.25): a
 * quarter of the CPU while marking is the design point of Go's pacer; the
 * trigger is chosen so that, with cons/mark right, marking finishes at the
 * goal with no assists at all. */
#define HN_PACER_BG_UTILIZATION 0.25

/* The heap minimum at GOGC=100 (Go's defaultHeapMinimum, 4 MiB): below this
 * heap size a cycle costs more in fixed overhead than it saves in memory. It
 * scales with GOGC (heap_minimum = 4 MiB * GOGC / 100), except in the trigger's
 * "goal - 4 MiB" bound, where Go uses the unscaled constant. */
#define HN_PACER_HEAP_MINIMUM ((uint64_t)4 << 20)

/* Extra scan work an assist does beyond its debt (Go's gcOverAssistWork, 64
 * KiB), to amortise the cost of entering an assist over future allocations. */
#define HN_PACER_OVER_ASSIST_WORK ((int64_t)64 << 10)

/* Minimum heap distance between the trigger and the goal while marking when
 * not memory-limited (Go's minRunway in heapGoalInternal, 64 KiB): assists are
 * proportional to 1/distance, so a trigger pressed against the goal would make
 * them enormous. */
#define HN_PACER_MIN_RUNWAY ((uint64_t)64 << 10)

/* Heap growth the concurrent sweeper gets before the next trigger when sweeping
 * is not finished (Go's sweepMinHeapDistance, 1 MiB). */
#define HN_PACER_SWEEP_MIN_HEAP_DISTANCE ((uint64_t)1 << 20)

/* Trigger bounds as fractions of the distance from the marked heap to the
 * goal, with a power-of-two denominator (Go's triggerRatioDen = 64,
 * minTriggerRatioNum = 45 (~0.7), maxTriggerRatioNum = 61 (~0.95)). The lower
 * bound stops a very fast allocator from driving the trigger so low that the
 * GC runs nearly always; the upper bound keeps some runway for marking. */
#define HN_PACER_TRIGGER_RATIO_DEN 64u
#define HN_PACER_MIN_TRIGGER_RATIO_NUM 45u
#define HN_PACER_MAX_TRIGGER_RATIO_NUM 61u

/* Memory-limit goal headroom (Go's memoryLimitHeapGoalHeadroomPercent = 3 and
 * memoryLimitMinHeapGoalHeadroom = 1 MiB): slack for pacing error, which hurts
 * small heaps most, hence the fixed floor. */
#define HN_PACER_LIMIT_HEADROOM_PERCENT 3u
#define HN_PACER_LIMIT_MIN_HEADROOM ((uint64_t)1 << 20)

/* How far past the (extended) goal revise lets the heap go once it is already
 * over it (Go's maxOvershoot = 1.1): the hard goal. */
#define HN_PACER_MAX_OVERSHOOT 1.1

/* Lower bound of the remaining scan work in revise (Go: 1000): marking is racy
 * and may double-scan, so the remainder can go to zero or below. */
#define HN_PACER_MIN_SCAN_WORK_REMAINING ((int64_t)1000)

/* Number of past cons/mark measurements kept besides the current one; the
 * estimate is the max of all five (Go 1.21+'s lastConsMark [4]). Taking the
 * max biases towards starting early (fewer assists) over noisy measurements. */
#define HN_PACER_CONS_MARK_HISTORY 4

/* Largest rounding error of the dedicated worker count before fractional
 * workers make up the difference (Go's maxUtilError = 0.3). */
#define HN_PACER_MAX_UTIL_ERROR 0.3

/* GOGC that revise pretends when GOGC=off but a cycle runs anyway (forced or
 * memory-limited), as Go does: "act like GOGC is huge". */
#define HN_PACER_OFF_REVISE_GOGC 100000

/* The runtime's view of memory, for the memory-limit goal. All bytes.
 *   mapped_ready: mapped memory that is not released to the OS (Go's
 *                 mappedReady): everything that counts against the limit.
 *   heap_free:    free heap pages still backed by memory (heapFree).
 *   heap_alloc:   bytes of heap objects allocated and not yet freed
 *                 (totalAlloc - totalFree), including unswept garbage.
 * heap_free + heap_alloc <= mapped_ready must hold. */
typedef struct hn_pacer_mem {
    uint64_t mapped_ready;
    uint64_t heap_free;
    uint64_t heap_alloc;
} hn_pacer_mem;

typedef struct hn_pacer {
    /* Settings. */
    int32_t gc_percent;       /* GOGC; HN_PACER_GOGC_OFF when off */
    int64_t memory_limit;     /* GOMEMLIMIT in bytes; HN_PACER_NO_LIMIT when off */
    uint64_t heap_minimum;    /* 4 MiB * GOGC / 100; 0 when GOGC is off */

    /* Estimates carried from cycle to cycle. */
    double cons_mark;                                 /* smoothed cons/mark */
    double last_cons_mark[HN_PACER_CONS_MARK_HISTORY]; /* cyclic history */
    unsigned cons_mark_next;                          /* next slot to overwrite */
    uint64_t runway;             /* bytes of allocation marking needs */
    uint64_t gc_percent_goal;    /* goal from GOGC; UINT64_MAX when off */
    uint64_t sweep_dist_min_trigger; /* live + 1 MiB while sweeping, else 0 */
    uint64_t last_heap_goal;     /* goal when the last cycle ended */

    /* What the last cycle found. */
    uint64_t heap_marked;     /* M: bytes marked live by the last cycle */
    uint64_t last_heap_scan;  /* Hs: scannable bytes of M (heap scan work) */
    uint64_t last_stack_scan; /* S: stack bytes scanned by the last cycle */
    uint64_t globals_scan;    /* G: scannable bytes of global roots */

    /* The cycle in progress (valid between start_cycle and end_cycle). */
    bool marking;
    uint64_t triggered;       /* heap_live when it started; UINT64_MAX if none */
    int64_t mark_start_ns;
    double assist_work_per_byte;
    double assist_bytes_per_work;
    int32_t dedicated_workers;
    double fractional_goal;   /* per-P fraction for the fractional worker */

    uint64_t cycles;          /* completed cycles */
} hn_pacer;

/* Initialise with GOGC (negative = off) and GOMEMLIMIT (HN_PACER_NO_LIMIT =
 * off; negative is treated as off). Computes the first goal and trigger as if
 * a cycle had marked nothing. */
void hn_pacer_init(hn_pacer *p, int32_t gogc, int64_t memory_limit);

/* Change GOGC (negative = off); returns the old value. Call hn_pacer_commit
 * after, as Go's setGCPercent is followed by gcControllerCommit. */
int32_t hn_pacer_set_gogc(hn_pacer *p, int32_t gogc);

/* Change GOMEMLIMIT; a negative value only reads it (Go's SetMemoryLimit).
 * Returns the old value. Call hn_pacer_commit after. */
int64_t hn_pacer_set_memory_limit(hn_pacer *p, int64_t limit);

/* Scannable bytes of global roots (G); counts from the next commit. */
void hn_pacer_set_globals(hn_pacer *p, uint64_t globals_scan);

/* Recompute the GOGC goal, the runway and the sweep-distance trigger floor
 * [commit]. heap_live: bytes live by the pacer's count now; sweep_done:
 * whether concurrent sweeping has finished. If marking, call hn_pacer_revise
 * after. */
void hn_pacer_commit(hn_pacer *p, uint64_t heap_live, bool sweep_done);

/* The GOGC goal, M + (M + S + G) * GOGC/100, floored at heap_minimum;
 * UINT64_MAX when gogc < 0. Pure arithmetic, exposed for tests and docs. */
uint64_t hn_pacer_gogc_goal(uint64_t marked, uint64_t stacks, uint64_t globals,
                            int32_t gogc, uint64_t heap_minimum);

/* The memory-limit goal [memoryLimitHeapGoal]: limit minus non-heap memory
 * minus any overage, minus max(3 %, 1 MiB) headroom, never below the marked
 * heap. UINT64_MAX when there is no limit. */
uint64_t hn_pacer_memory_limit_goal(const hn_pacer *p, const hn_pacer_mem *mem);

/* The heap goal in force now: min(GOGC goal, limit goal), with the sweep and
 * minimum-runway adjustments when not memory-limited [heapGoal]. UINT64_MAX
 * when both settings are off. */
uint64_t hn_pacer_heap_goal(const hn_pacer *p, const hn_pacer_mem *mem);

/* The trigger and the goal it was computed for [trigger]. trigger <= goal.
 * Both UINT64_MAX when both settings are off (no collection ever starts). */
typedef struct hn_pacer_trigger_out {
    uint64_t trigger;
    uint64_t goal;
    uint64_t min_trigger; /* the bounds it was clamped to, for tests/tracing */
    uint64_t max_trigger;
    bool memory_limited;  /* the limit goal was the smaller */
} hn_pacer_trigger_out;
hn_pacer_trigger_out hn_pacer_trigger(const hn_pacer *p, const hn_pacer_mem *mem);

/* True when a cycle should start: not already marking, a goal exists and
 * heap_live >= trigger [gcTrigger.test for gcTriggerHeap]. */
bool hn_pacer_should_start(const hn_pacer *p, const hn_pacer_mem *mem,
                           uint64_t heap_live);

/* Longest time between cycles before one is forced (Go's forcegcperiod, 2
 * minutes): a program that stops allocating still gets its garbage collected
 * and its memory scavenged eventually. */
#define HN_PACER_FORCE_PERIOD_NS ((int64_t)120 * 1000000000)

/* True when a periodic cycle is due [gcTrigger.test for gcTriggerTime]: GOGC
 * is not off, a cycle has completed before (last_gc_ns != 0) and more than 2
 * minutes have passed since it ended. */
bool hn_pacer_periodic_due(const hn_pacer *p, int64_t now_ns, int64_t last_gc_ns);

/* Proportional sweeping [gcPaceSweeper, deductSweepCredit]: the concurrent
 * sweeper must have swept every in-use page by the time the heap reaches the
 * next trigger, so each allocated byte owes pages_per_byte pages of sweeping.
 * heap_distance = trigger - heap_live - 1 MiB of margin, at least one page;
 * pages_per_byte = (pages_in_use - pages_swept) / heap_distance, 0 when sweeping
 * is done or nothing is left. Bytes and pages of `page_size` bytes. */
double hn_pacer_sweep_pages_per_byte(uint64_t trigger, uint64_t heap_live,
                                     uint64_t pages_in_use, uint64_t pages_swept,
                                     uint64_t page_size, bool sweep_done);

/* Pages an allocation of span_bytes must sweep first: pages_per_byte times
 * the bytes allocated since the basis (heap_live_basis, when the ratio was
 * computed) plus this span, less caller_pages it already swept, less the
 * pages swept since the basis; 0 if none. */
int64_t hn_pacer_sweep_debt(double pages_per_byte, uint64_t heap_live,
                            uint64_t heap_live_basis, uint64_t span_bytes,
                            uint64_t pages_swept_since_basis, uint64_t caller_pages);

/* Background worker plan for `procs` processors [startCycle]: dedicated =
 * round(0.25 * procs); when that is more than 30 % off, drop one if it
 * overshoots and give each processor a fractional share of the rest. */
typedef struct hn_pacer_workers {
    int32_t dedicated;
    double fractional; /* fraction of each P's time for the fractional worker */
} hn_pacer_workers;
hn_pacer_workers hn_pacer_worker_plan(int32_t procs);

/* Start a mark phase [startCycle]. heap_live: the pacer's live count now (it
 * becomes `triggered`). Revise inputs as for hn_pacer_revise with no work done. */
typedef struct hn_pacer_revise_in {
    uint64_t heap_live;      /* marked last cycle + allocated since */
    uint64_t heap_scan;      /* scannable part of heap_live (worst case) */
    uint64_t max_stack_scan; /* allocated stack bytes (worst-case stack work) */
    int64_t scan_work_done;  /* heap + stack + globals scan work this cycle */
    hn_pacer_mem mem;
} hn_pacer_revise_in;
hn_pacer_workers hn_pacer_start_cycle(hn_pacer *p, int64_t mark_start_ns,
                                      int32_t procs,
                                      const hn_pacer_revise_in *in);

/* Recompute the assist ratio from progress [revise]: remaining scan work over
 * remaining heap distance to the goal, with the goal extended when the heap
 * grew and pushed to 1.1x once the heap is past it. Only while marking. */
typedef struct hn_pacer_revise_out {
    int64_t heap_goal;           /* the goal the ratio aims at (maybe extended) */
    int64_t scan_work_expected;
    int64_t scan_work_remaining;
    int64_t heap_remaining;
    bool hard_goal;              /* heap already past the goal: 1.1x in force */
} hn_pacer_revise_out;
hn_pacer_revise_out hn_pacer_revise(hn_pacer *p, const hn_pacer_revise_in *in);

/* Scan work owed for `bytes` allocated at the current ratio, unrounded. */
int64_t hn_pacer_assist_work_for(const hn_pacer *p, int64_t bytes);

/* Allocation credit earned by doing `work` units of scan work: Go adds
 * 1 + bytes_per_work * work (the 1 rounds up so credit always moves). */
int64_t hn_pacer_assist_credit(const hn_pacer *p, int64_t work);

/* What an allocating thread with `debt_bytes` of unpaid allocation does
 * [gcAssistAlloc]: nothing if the CPU limiter is limiting; else it owes
 * work_per_byte * debt scan work, rounded up to 64 KiB of work (the over-
 * assist chunk, paying ahead for future allocations); it first steals from the
 * background credit pool, and scans the rest itself. */
typedef struct hn_pacer_assist {
    bool skipped;        /* limiter on: no assist at all */
    int64_t owed_work;   /* scan work the assist is sized for (>= 64 KiB) */
    int64_t paid_bytes;  /* allocation bytes owed_work pays for */
    int64_t stolen;      /* background credit taken (subtract from the pool) */
    int64_t stolen_bytes;/* allocation credit from the stolen work */
    int64_t scan_work;   /* work left for the thread to do itself */
} hn_pacer_assist;
hn_pacer_assist hn_pacer_assist_plan(const hn_pacer *p, int64_t debt_bytes,
                                     int64_t bg_credit, bool limiting);

/* What a cycle measured, given at mark termination. */
typedef struct hn_pacer_measurements {
    int64_t now_ns;             /* end of marking (start of mark termination) */
    int32_t procs;
    int64_t assist_time_ns;     /* CPU time in mark assists this cycle */
    int64_t idle_mark_time_ns;  /* CPU time of idle-priority mark workers */
    uint64_t heap_live;         /* pacer's live count at the end of marking */
    int64_t heap_scan_work;     /* heap bytes scanned (becomes Hs) */
    int64_t stack_scan_work;    /* stack bytes scanned (becomes S) */
    int64_t globals_scan_work;  /* global bytes scanned */
    uint64_t heap_marked;       /* bytes marked live (becomes M) */
    bool sweep_done;            /* false in the usual case: sweeping starts now */
    hn_pacer_mem mem;           /* memory now, for the goal being retired */
} hn_pacer_measurements;

/* Finish a cycle [endCycle + resetLive + commit]: retire the goal as
 * last_heap_goal, measure cons/mark = (heap_live - triggered) * (u + u_idle) /
 * (scan_work * (1 - u)) with u = 0.25 + assist share, smooth it (max of this
 * and the last 4), then set M, Hs, S from the measurements and recompute goal
 * and runway. Returns the cons/mark measured this cycle (0 when nothing could
 * be measured: no allocation during marking or no scan work). */
double hn_pacer_end_cycle(hn_pacer *p, const hn_pacer_measurements *m);

#endif
