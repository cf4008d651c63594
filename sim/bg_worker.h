/*
 * bg_worker.h: heron's background mark worker over model time.
 *
 * The collector's worker marks at full speed in slices and sleeps between them to
 * keep its share (gc/duty.h); the model runs the same schedule, so a cycle whose
 * marking fits in one slice is over in it, at full speed, as on the collector, and
 * not at the share's average rate (which had made the model's short cycles last
 * twice the replays' and its assists larger).
 */
#ifndef HN_SIM_BG_WORKER_H
#define HN_SIM_BG_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "gc/duty.h"

typedef struct hn_bg_worker {
    hn_duty duty;
    double cpu_ns;     /* CPU since marking began */
    int64_t at;        /* model time the state is at */
    int64_t slice_end; /* running: the slice ends then */
    int64_t wake;      /* sleeping: the next slice starts then */
    bool sleeping;
} hn_bg_worker;

/* Marking begins at model time t with the worker's share util (of one processor). */
void hn_bg_worker_start(hn_bg_worker *w, int64_t t, double util);

/* Runs the worker up to model time t (>= w->at), at `speed` of a processor while it
 * runs (below 1: the processors were taken, as by an assist with one processor).
 * Returns the CPU it used. */
double hn_bg_worker_run(hn_bg_worker *w, int64_t t, double speed);

/* The model time at which the worker, at full speed from now on, will have used
 * cpu_ns more CPU. */
int64_t hn_bg_worker_time_for(const hn_bg_worker *w, double cpu_ns);

#endif
