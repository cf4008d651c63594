/* tests/gc/test_pacer_model.c: the pacer in a closed loop with a model
 * program, on a virtual clock (no real time is measured, so the test is
 * deterministic and not timed).
 *
 * The model: `procs` processors; the program keeps a fixed live heap of
 * `live` bytes (all scannable) and allocates short-lived garbage at `alloc`
 * bytes per mutator CPU-ns; the collector scans `scan` bytes per GC CPU-ns.
 * Each step of `dt` ns:
 *   - not marking: the mutators allocate; when hn_pacer_should_start says so,
 *     a cycle starts (new objects are allocated black from then on);
 *   - marking: background workers get 25 % of the CPU and bank their scan
 *     work as credit; the mutators get the rest, and every allocation that
 *     runs out of assist credit asks hn_pacer_assist_plan what it owes, steals
 *     background credit and scans the rest itself, paying in CPU time;
 *     hn_pacer_revise runs every step; the CPU limiter is updated every step
 *     and turns assists off when it fills;
 *   - marking ends when the live heap (the only scan work) has been scanned;
 *     M = live + what was allocated black; hn_pacer_end_cycle.
 * Memory: heap objects are heap_live (sweeping is immediate), the rest of
 * mapped memory is a fixed `nonheap`.
 *
 * What it checks: after a warm-up, each cycle's peak heap is within 10 % of
 * that cycle's goal at GOGC 50, 100 and 200, also when the allocation rate
 * changes from cycle to cycle; with a memory limit below the
 * GOGC goal, mapped memory stays under the limit; when the live heap does not
 * fit under the limit, the CPU limiter holds GC CPU near half; and doubling
 * GOGC about halves the number of cycles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "gc/limiter.h"
#include "gc/pacer.h"

#define MiB ((uint64_t)1 << 20)

typedef struct model_params {
    int32_t gogc;
    int64_t limit;      /* HN_PACER_NO_LIMIT for none */
    int32_t procs;
    uint64_t live;      /* bytes */
    uint64_t nonheap;   /* bytes */
    double alloc;       /* bytes per mutator CPU-ns */
    double jitter;      /* each cycle's rate is alloc * (1 +- jitter) */
    double scan;        /* bytes per GC CPU-ns */
    int64_t dt;         /* ns per step */
    int cycles;         /* cycles to run */
    int warmup;         /* cycles not checked */
    bool no_limiter;    /* never skip assists (to see what the limiter saves) */
} model_params;

typedef struct model_result {
    double min_ratio;      /* lowest peak / goal after warm-up */
    double max_ratio;      /* highest peak / goal after warm-up */
    uint64_t peak_mapped;  /* after warm-up */
    int64_t elapsed_ns;
    double gc_cpu_fraction;   /* over the whole run */
    double steady_gc_cpu;     /* after warm-up */
    uint64_t limiter_activations;
} model_result;

static model_result run_model(const model_params *mp)
{
    model_result r = {.min_ratio = 1e9, .max_ratio = 0};
    hn_pacer p;
    hn_limiter lim;
    hn_pacer_init(&p, mp->gogc, mp->limit);
    hn_limiter_init(&lim, 0, mp->procs);

    int64_t now = 0;
    uint64_t heap_live = mp->live; /* the live set exists from the start */
    bool marking = false;
    int64_t work_done = 0, bg_credit = 0, credit = 0;
    int64_t assist_ns = 0, cycle_assist_ns = 0;
    int64_t gc_cpu = 0, total_cpu = 0, warm_gc_cpu = -1, warm_total_cpu = 0;
    uint64_t heap_scan = 0, peak = 0;
    const double cpu_step = (double)mp->dt * mp->procs;
    double alloc = mp->alloc;
    uint64_t rng = 0x9e3779b97f4a7c15u; /* fixed seed: deterministic */

    while ((int)p.cycles < mp->cycles) {
        hn_pacer_mem mem = {heap_live + mp->nonheap, 0, heap_live};
        if (!marking && hn_pacer_should_start(&p, &mem, heap_live)) {
            marking = true;
            /* A new allocation rate for this cycle (xorshift64). */
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            double u = (double)(rng >> 11) / 9007199254740992.0;
            alloc = mp->alloc * (1 + mp->jitter * (2 * u - 1));
            work_done = bg_credit = credit = 0;
            cycle_assist_ns = 0;
            heap_scan = heap_live;
            peak = heap_live;
            hn_limiter_start_transition(&lim, true, now, assist_ns, 0);
            hn_limiter_finish_transition(&lim, now);
            assist_ns = 0;
            hn_pacer_revise_in in = {.heap_live = heap_live, .heap_scan = heap_scan, .mem = mem};
            hn_pacer_start_cycle(&p, now, mp->procs, &in);
        }

        double mutator_cpu = cpu_step;
        if (marking) {
            double bg_cpu = cpu_step * HN_PACER_BG_UTILIZATION;
            int64_t bg_work = (int64_t)(bg_cpu * mp->scan);
            work_done += bg_work;
            bg_credit += bg_work;
            gc_cpu += (int64_t)bg_cpu;
            mutator_cpu -= bg_cpu;
        }
        if (marking && credit < 0 && work_done < (int64_t)mp->live) {
            /* A mutator in debt assists before it allocates again, on its own
             * CPU, for at most this step; it asks again next step, so it sees
             * the CPU limiter turn on (Go re-checks at its retry points). */
            hn_pacer_assist a = hn_pacer_assist_plan(&p, -credit, bg_credit,
                                                     !mp->no_limiter &&
                                                         hn_limiter_limiting(&lim));
            if (!a.skipped) {
                bg_credit -= a.stolen;
                credit += a.stolen_bytes;
                /* Scan what there is to scan (Go's gcDrainN stops when the
                 * work runs out) and what fits in the step. */
                int64_t chunk = a.scan_work;
                if (chunk > (int64_t)mp->live - work_done)
                    chunk = (int64_t)mp->live - work_done;
                if (chunk > (int64_t)(mutator_cpu * mp->scan))
                    chunk = (int64_t)(mutator_cpu * mp->scan);
                if (chunk > 0) {
                    int64_t t = (int64_t)((double)chunk / mp->scan);
                    work_done += chunk;
                    credit += hn_pacer_assist_credit(&p, chunk);
                    mutator_cpu -= (double)t;
                    assist_ns += t;
                    cycle_assist_ns += t;
                    gc_cpu += t;
                }
            }
        }

        uint64_t bytes = (uint64_t)(mutator_cpu * alloc);
        heap_live += bytes;
        if (marking) {
            credit -= (int64_t)bytes;
            if (heap_live > peak)
                peak = heap_live;
            hn_pacer_revise_in in = {
                .heap_live = heap_live,
                .heap_scan = heap_scan,
                .scan_work_done = work_done,
                .mem = {heap_live + mp->nonheap, 0, heap_live},
            };
            hn_pacer_revise(&p, &in);
        }
        now += mp->dt;
        total_cpu += (int64_t)cpu_step;
        hn_limiter_update(&lim, now, assist_ns, 0);
        assist_ns = 0;
        if (p.cycles >= (uint64_t)mp->warmup && warm_gc_cpu < 0) {
            warm_gc_cpu = gc_cpu;
            warm_total_cpu = total_cpu;
        }
        if (p.cycles >= (uint64_t)mp->warmup && heap_live + mp->nonheap > r.peak_mapped)
            r.peak_mapped = heap_live + mp->nonheap;

        if (marking && work_done >= (int64_t)mp->live) {
            marking = false;
            hn_limiter_start_transition(&lim, false, now, assist_ns, 0);
            hn_limiter_finish_transition(&lim, now);
            assist_ns = 0;
            hn_pacer_measurements m = {
                .now_ns = now,
                .procs = mp->procs,
                .assist_time_ns = cycle_assist_ns,
                .heap_live = heap_live,
                .heap_scan_work = (int64_t)mp->live,
                /* The live set plus everything allocated black. */
                .heap_marked = mp->live + (heap_live - p.triggered),
                .sweep_done = false,
                .mem = {heap_live + mp->nonheap, 0, heap_live},
            };
            hn_pacer_end_cycle(&p, &m);
            if (p.cycles > (uint64_t)mp->warmup) {
                double ratio = (double)peak / (double)p.last_heap_goal;
                if (ratio < r.min_ratio)
                    r.min_ratio = ratio;
                if (ratio > r.max_ratio)
                    r.max_ratio = ratio;
            }
            /* Sweeping frees the garbage: what is left is what was marked. */
            heap_live = p.heap_marked;
        }
    }
    r.elapsed_ns = now;
    r.gc_cpu_fraction = (double)gc_cpu / (double)total_cpu;
    r.steady_gc_cpu = (double)(gc_cpu - warm_gc_cpu) / (double)(total_cpu - warm_total_cpu);
    r.limiter_activations = lim.activations;
    return r;
}

static model_params base(int32_t gogc)
{
    return (model_params){
        .gogc = gogc,
        .limit = HN_PACER_NO_LIMIT,
        .procs = 4,
        .live = 64 * MiB,
        .nonheap = 4 * MiB,
        .alloc = 0.1,   /* 100 MB/s per mutator CPU */
        .scan = 1.0,    /* 1 GB/s per GC CPU */
        .dt = 50000,    /* 50 us */
        .cycles = 40,
        .warmup = 5,
    };
}

static void check_within_goal(int32_t gogc)
{
    model_params mp = base(gogc);
    model_result r = run_model(&mp);
    print_message("GOGC=%d: peak/goal %.3f..%.3f, GC CPU %.1f %%\n", gogc,
                  r.min_ratio, r.max_ratio, 100 * r.gc_cpu_fraction);
    assert_true(r.max_ratio <= 1.10);
    assert_true(r.min_ratio >= 0.90);
}

static void test_gogc_50(void **state)
{
    (void)state;
    check_within_goal(50);
}

static void test_gogc_100(void **state)
{
    (void)state;
    check_within_goal(100);
}

static void test_gogc_200(void **state)
{
    (void)state;
    check_within_goal(200);
}

static void test_faster_allocation(void **state)
{
    (void)state;
    /* cons/mark 0.5: the runway wants more than the bounds allow, so the
     * trigger sits at its lower bound and assists make up the rest. */
    model_params mp = base(100);
    mp.alloc = 0.5;
    model_result r = run_model(&mp);
    print_message("alloc 0.5 B/ns: peak/goal %.3f..%.3f, GC CPU %.1f %%\n",
                  r.min_ratio, r.max_ratio, 100 * r.gc_cpu_fraction);
    assert_true(r.max_ratio <= 1.10);
    assert_true(r.min_ratio >= 0.90);
}

static void test_noisy_allocation(void **state)
{
    (void)state;
    /* The allocation rate changes by up to 30 % from cycle to cycle: the
     * max-of-5 cons/mark starts early for the worst recent rate, assists
     * cover a faster cycle. */
    for (int32_t gogc = 50; gogc <= 200; gogc *= 2) {
        model_params mp = base(gogc);
        mp.jitter = 0.3;
        mp.cycles = 60;
        model_result r = run_model(&mp);
        print_message("GOGC=%d, +-30 %% rate: peak/goal %.3f..%.3f, GC CPU %.1f %%\n",
                      gogc, r.min_ratio, r.max_ratio, 100 * r.gc_cpu_fraction);
        assert_true(r.max_ratio <= 1.10);
        assert_true(r.min_ratio >= 0.90);
    }
}

static void test_limit_below_gogc_goal(void **state)
{
    (void)state;
    /* Live 32 MiB: the GOGC=100 goal is over 64 MiB; a 64 MiB limit with 4
     * MiB of non-heap memory leaves a limit goal of about 58 MiB. */
    model_params mp = base(100);
    mp.live = 32 * MiB;
    mp.limit = (int64_t)(64 * MiB);
    model_result r = run_model(&mp);
    print_message("limit 64 MiB: peak mapped %.1f MiB, GC CPU %.1f %%\n",
                  (double)r.peak_mapped / (double)MiB, 100 * r.gc_cpu_fraction);
    assert_true(r.peak_mapped <= 64 * MiB);
    /* And the limit, not GOGC, set the pace: peaks well above 48 MiB. */
    assert_true(r.peak_mapped > 48 * MiB);
    /* GOGC=off with the same limit stays under it too. */
    mp.gogc = HN_PACER_GOGC_OFF;
    r = run_model(&mp);
    assert_true(r.peak_mapped <= 64 * MiB);
}

static void test_limiter_caps_spiral(void **state)
{
    (void)state;
    /* The live heap does not fit: 72 MiB live under a 64 MiB limit. The goal
     * is floored at the live heap, the GC runs back to back and assists at
     * the hard goal would take most of the CPU. The CPU limiter lets the GC
     * fill its bucket (4 procs * 1 s), then holds it near half: limiting
     * turns assists off (25 % GC), which drains the bucket, which turns them
     * back on, so the GC alternates between 25 % and its uncapped share. */
    model_params mp = base(100);
    mp.live = 72 * MiB;
    mp.limit = (int64_t)(64 * MiB);
    mp.alloc = 0.5;
    mp.cycles = 300;
    mp.warmup = 100; /* past the first ~1.4 s it takes to fill the bucket */
    model_result capped = run_model(&mp);
    mp.no_limiter = true;
    model_result uncapped = run_model(&mp);
    print_message("live over the limit: GC CPU %.1f %% with the limiter (%llu "
                  "activations), %.1f %% without\n", 100 * capped.steady_gc_cpu,
                  (unsigned long long)capped.limiter_activations,
                  100 * uncapped.steady_gc_cpu);
    assert_true(uncapped.steady_gc_cpu > 0.8);
    assert_true(capped.limiter_activations > 0);
    assert_true(capped.steady_gc_cpu > 0.45 && capped.steady_gc_cpu < 0.66);
}

static void test_doubling_gogc_halves_cycles(void **state)
{
    (void)state;
    /* Same simulated time at GOGC 100 and 200: count the cycles. */
    model_params mp = base(100);
    mp.cycles = 30;
    model_result r100 = run_model(&mp);
    mp.gogc = 200;
    /* Run GOGC=200 for as many cycles as fit in the same time. */
    int lo = 1, hi = 30;
    while (lo < hi) {
        mp.cycles = (lo + hi + 1) / 2;
        model_result r = run_model(&mp);
        if (r.elapsed_ns <= r100.elapsed_ns)
            lo = mp.cycles;
        else
            hi = mp.cycles - 1;
    }
    print_message("cycles in the same time: GOGC=100 30, GOGC=200 %d\n", lo);
    /* About half: M ~ live grows the heap by 64 MiB vs 128 MiB per cycle. */
    assert_true(lo >= 13 && lo <= 17);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gogc_50),
        cmocka_unit_test(test_gogc_100),
        cmocka_unit_test(test_gogc_200),
        cmocka_unit_test(test_faster_allocation),
        cmocka_unit_test(test_noisy_allocation),
        cmocka_unit_test(test_limit_below_gogc_goal),
        cmocka_unit_test(test_limiter_caps_spiral),
        cmocka_unit_test(test_doubling_gogc_halves_cycles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
