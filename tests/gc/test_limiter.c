/* tests/gc/test_limiter.c: the GC CPU limiter's bucket against hand-computed
 * cases: filling, draining, capping at capacity (with the overflow counted),
 * what counts as GC and mutator time in an update, pauses (a mark resume's
 * within marking too), idle time,
 * resizing, activations and the fraction of time limiting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gc/limiter.h"

#define MS ((int64_t)1000000)
#define SEC ((int64_t)1000000000)

static void test_capacity_per_proc(void **state)
{
    (void)state;
    hn_limiter l;
    hn_limiter_init(&l, 0, 8);
    assert_int_equal(l.capacity, 8 * (uint64_t)SEC);
    assert_int_equal(l.fill, 0);
    assert_false(hn_limiter_limiting(&l));
    hn_limiter_init(&l, 0, 0); /* nonsense procs count as 1 */
    assert_int_equal(l.capacity, (uint64_t)SEC);
}

static void test_fill_drain_cap(void **state)
{
    (void)state;
    hn_limiter l;
    hn_limiter_init(&l, 0, 2); /* capacity 2 CPU-s */

    /* GC 0.7 s vs mutator 0.2 s: fill 0.5 s. */
    hn_limiter_accumulate(&l, 200 * MS, 700 * MS);
    assert_int_equal(l.fill, 500 * MS);
    assert_false(hn_limiter_limiting(&l));

    /* Mutator time drains one for one: 0.3 s left. */
    hn_limiter_accumulate(&l, 300 * MS, 100 * MS);
    assert_int_equal(l.fill, 300 * MS);

    /* Draining below empty stops at empty: no credit is banked. */
    hn_limiter_accumulate(&l, 5 * SEC, 0);
    assert_int_equal(l.fill, 0);
    hn_limiter_accumulate(&l, 0, 1 * SEC);
    assert_int_equal(l.fill, 1 * SEC);

    /* Filling past capacity caps it, counts the excess and turns it on:
     * 1 s + 1.5 s = 2.5 s, 0.5 s over. */
    hn_limiter_accumulate(&l, 0, 1500 * MS);
    assert_int_equal(l.fill, 2 * SEC);
    assert_int_equal(l.overflow, 500 * MS);
    assert_true(hn_limiter_limiting(&l));
    assert_int_equal(l.activations, 1);

    /* Staying full: more overflow, still one activation. */
    hn_limiter_accumulate(&l, 100 * MS, 300 * MS);
    assert_int_equal(l.overflow, 700 * MS);
    assert_int_equal(l.activations, 1);

    /* Any net drain turns it off. */
    hn_limiter_accumulate(&l, 1 * MS, 0);
    assert_int_equal(l.fill, 2 * SEC - 1 * MS);
    assert_false(hn_limiter_limiting(&l));

    /* A zero change leaves the state alone (on stays on, off stays off). */
    hn_limiter_accumulate(&l, 5, 5);
    assert_false(hn_limiter_limiting(&l));
    hn_limiter_accumulate(&l, 0, 1 * MS);
    assert_true(hn_limiter_limiting(&l));
    assert_int_equal(l.activations, 2);
    hn_limiter_accumulate(&l, 7, 7);
    assert_true(hn_limiter_limiting(&l));
}

static void test_update_accounting(void **state)
{
    (void)state;
    hn_limiter l;
    hn_limiter_init(&l, 0, 4); /* capacity 4 CPU-s */

    /* Not marking: 100 ms of 4 procs is all mutator time; nothing to drain. */
    hn_limiter_update(&l, 100 * MS, 0, 0);
    assert_int_equal(l.fill, 0);
    assert_int_equal(l.last_update_ns, 100 * MS);

    /* Marking starts with a 1 ms pause: 4 CPU-ms of GC. */
    hn_limiter_start_transition(&l, true, 100 * MS, 0, 0);
    hn_limiter_finish_transition(&l, 101 * MS);
    assert_int_equal(l.fill, 4 * MS);
    assert_true(l.gc_enabled);

    /* 100 ms of marking: window 400 CPU-ms; GC = 25 % background (100) +
     * 150 of assists = 250; mutator = 150; fill += 100. */
    hn_limiter_update(&l, 201 * MS, 150 * MS, 0);
    assert_int_equal(l.fill, 104 * MS);

    /* Idle time leaves the total, not the GC share: window 400, GC = 100 +
     * 50 = 150, total = 400 - 200 idle = 200, mutator 50: fill += 100. */
    hn_limiter_update(&l, 301 * MS, 50 * MS, 200 * MS);
    assert_int_equal(l.fill, 204 * MS);

    /* A stale clock is ignored. */
    hn_limiter_update(&l, 300 * MS, 999 * MS, 0);
    assert_int_equal(l.fill, 204 * MS);
    assert_int_equal(l.last_update_ns, 301 * MS);

    /* Marking ends with a 2 ms pause (8 CPU-ms) and counts a cycle. */
    hn_limiter_start_transition(&l, false, 301 * MS, 0, 0);
    assert_true(l.transitioning);
    hn_limiter_update(&l, 302 * MS, 1 * SEC, 0); /* ignored mid-pause */
    hn_limiter_finish_transition(&l, 303 * MS);
    assert_int_equal(l.fill, 212 * MS);
    assert_int_equal(l.cycle, 1);
    assert_false(l.gc_enabled);

    /* After marking, 53 ms of 4 procs of mutator time drain 212 ms. */
    hn_limiter_update(&l, 356 * MS, 0, 0);
    assert_int_equal(l.fill, 0);
}

static void test_pause_within_marking(void **state)
{
    (void)state;
    /* A mark termination that resumes marking (pace.c's hn_pace_mark_resumed) is a
     * transition from marking to marking: its pause is every proc's GC time, the
     * marking before it is counted up to the pause, and no cycle ends. */
    hn_limiter l;
    hn_limiter_init(&l, 0, 2);
    hn_limiter_start_transition(&l, true, 0, 0, 0);
    hn_limiter_finish_transition(&l, 0);
    /* 40 ms of marking with 10 CPU-ms of assists: window 80, GC 20 + 10, fill += 0
     * (mutator 50, so the bucket stays empty); then a 3 ms pause: 6 CPU-ms. */
    hn_limiter_start_transition(&l, true, 40 * MS, 10 * MS, 0);
    assert_int_equal(l.fill, 0);
    hn_limiter_finish_transition(&l, 43 * MS);
    assert_int_equal(l.fill, 6 * MS);
    assert_true(l.gc_enabled);
    assert_int_equal(l.cycle, 0);
    assert_int_equal(l.last_update_ns, 43 * MS);
    /* Marking goes on from the pause's end: 10 ms with 8 CPU-ms of assists: window
     * 20, GC 5 + 8 = 13, mutator 7: fill += 6. */
    hn_limiter_update(&l, 53 * MS, 8 * MS, 0);
    assert_int_equal(l.fill, 12 * MS);
}

static void test_limits_near_half_cpu(void **state)
{
    (void)state;
    /* A GC that wants 75 % of the CPU all the time (25 % background + 50 %
     * assists): the bucket fills at 50 % of the CPU, and once full assists
     * stop (the caller skips them), leaving 25 % GC vs 75 % mutator, which
     * drains it. Over a long run the GC gets about half. */
    hn_limiter l;
    hn_limiter_init(&l, 0, 1);
    hn_limiter_start_transition(&l, true, 0, 0, 0);
    hn_limiter_finish_transition(&l, 0);
    int64_t gc = 0;
    int64_t now = 0;
    const int64_t step = 10 * MS;
    for (int i = 0; i < 4000; i++) {
        int64_t assist = hn_limiter_limiting(&l) ? 0 : step / 2;
        now += step;
        hn_limiter_update(&l, now, assist, 0);
        gc += assist + step / 4;
    }
    double share = (double)gc / (double)now;
    print_message("GC share with the limiter: %.3f, limiting %.3f of the time\n",
                  share, hn_limiter_enabled_fraction(&l, now));
    assert_true(share > 0.49 && share < 0.52);
    assert_true(l.activations > 1);
    /* It took 1 s of the bucket (1 CPU-s filling at 0.5 per s = 2 s) before
     * the first activation. */
    assert_true(l.last_enabled_cycle == 1);
    double f = hn_limiter_enabled_fraction(&l, now);
    assert_true(f > 0.3 && f < 0.6);
}

static void test_enabled_fraction(void **state)
{
    (void)state;
    hn_limiter l;
    hn_limiter_init(&l, 1000, 1);
    hn_limiter_update(&l, 1000 + 500 * MS, 2 * SEC, 0); /* fills, turns on */
    assert_true(hn_limiter_limiting(&l));
    assert_float_equal(hn_limiter_enabled_fraction(&l, 1000 + 500 * MS), 0, 0);
    /* On for the next 500 ms (not yet updated: counted up to now). */
    assert_float_equal(hn_limiter_enabled_fraction(&l, 1000 + SEC), 0.5, 1e-12);
    hn_limiter_update(&l, 1000 + SEC, 0, 0); /* drains 0.5 s: off */
    assert_false(hn_limiter_limiting(&l));
    assert_float_equal(hn_limiter_enabled_fraction(&l, 1000 + 2 * SEC), 0.25, 1e-12);
}

static void test_reset_capacity(void **state)
{
    (void)state;
    hn_limiter l;
    hn_limiter_init(&l, 0, 4);
    hn_limiter_accumulate(&l, 0, 3 * SEC);
    /* Shrinking below the fill caps it and turns the limiter on. */
    hn_limiter_reset_capacity(&l, 0, 2);
    assert_int_equal(l.capacity, 2 * (uint64_t)SEC);
    assert_int_equal(l.fill, 2 * SEC);
    assert_true(hn_limiter_limiting(&l));
    /* Growing leaves headroom and turns it off. */
    hn_limiter_reset_capacity(&l, 0, 8);
    assert_int_equal(l.fill, 2 * SEC);
    assert_false(hn_limiter_limiting(&l));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capacity_per_proc),
        cmocka_unit_test(test_fill_drain_cap),
        cmocka_unit_test(test_update_accounting),
        cmocka_unit_test(test_pause_within_marking),
        cmocka_unit_test(test_limits_near_half_cpu),
        cmocka_unit_test(test_enabled_fraction),
        cmocka_unit_test(test_reset_capacity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
