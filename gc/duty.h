/* gc/duty.h: the background mark worker's duty cycle, as a pure module.
 *
 * heron has one background mark worker thread (gc/collector.c). When its share of the
 * processors (the pacer's worker plan, capped at one processor) is below one, it marks
 * at full speed in slices of HN_DUTY_SLICE_NS and, after each, sleeps until its CPU
 * since marking began is `util` times the wall time since then: Go's fractional worker,
 * with the same effect on a cycle's length. A cycle that needs less than a slice of
 * marking is over in that slice, at full speed; a longer one runs at about `util`.
 *
 * The collector calls hn_duty_resume_at after each slice; sim/bg_worker.c models the
 * worker with the same call, so the simulated cycle lasts what the collector's does.
 * Explicit time, no threads, no I/O.
 */
#ifndef HERON_GC_DUTY_H
#define HERON_GC_DUTY_H

#include <stdint.h>

/* A slice: long enough that the pool lock and clock reads cost nothing, short enough
 * that a duty cycle below one processor is smooth (Go's fractional worker is
 * preempted at similar granularity). */
#define HN_DUTY_SLICE_NS 1000000
/* A worker behind its share by more than this many slices (the scheduler starved it)
 * is forgiven the rest, so it does not then take a whole processor to catch up. */
#define HN_DUTY_FORGIVE_SLICES 2

typedef struct hn_duty {
    int64_t wall0; /* when marking began, moved later by each deficit forgiven */
    double util;   /* the worker's share: CPU over wall time; 1 or more never sleeps */
} hn_duty;

static inline void hn_duty_init(hn_duty *d, int64_t now_ns, double util)
{
    d->wall0 = now_ns;
    d->util = util;
}

/* After a slice that ended at now_ns, with cpu_ns of the worker's CPU since marking
 * began: when its next slice may start (now_ns or earlier: at once). The worker's CPU
 * is kept at util times the wall time since wall0, which sleeping for each slice's
 * share would not do: every oversleep and preemption would be lost for good. */
int64_t hn_duty_resume_at(hn_duty *d, int64_t now_ns, int64_t cpu_ns);

#endif
