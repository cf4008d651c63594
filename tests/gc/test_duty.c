/* tests/gc/test_duty.c: the background worker's duty cycle against hand-computed
 * cases: the sleep that keeps a half share, a share of one or more never sleeping, a
 * worker ahead or on time, and the deficit forgiven past two slices.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gc/duty.h"

#define MS ((int64_t)1000000)

static void test_half_share_sleeps_a_slice_per_slice(void **state)
{
    (void)state;
    hn_duty d;
    hn_duty_init(&d, 10 * MS, 0.5);
    /* One full slice from 10 ms: 1 ms of CPU is due at 12 ms. */
    assert_int_equal(hn_duty_resume_at(&d, 11 * MS, 1 * MS), 12 * MS);
    /* The second, 12-13 ms: 2 ms of CPU is due at 14 ms. */
    assert_int_equal(hn_duty_resume_at(&d, 13 * MS, 2 * MS), 14 * MS);
    /* A quarter share: 1 ms of CPU per 4 ms. */
    hn_duty_init(&d, 0, 0.25);
    assert_int_equal(hn_duty_resume_at(&d, 1 * MS, 1 * MS), 4 * MS);
    assert_int_equal(d.wall0, 0);
}

static void test_full_share_never_sleeps(void **state)
{
    (void)state;
    hn_duty d;
    hn_duty_init(&d, 0, 1.0);
    assert_int_equal(hn_duty_resume_at(&d, 1 * MS, 1 * MS), 1 * MS);
    hn_duty_init(&d, 0, 1.5);
    assert_int_equal(hn_duty_resume_at(&d, 5 * MS, 1 * MS), 5 * MS);
}

static void test_deficit_forgiven_past_two_slices(void **state)
{
    (void)state;
    hn_duty d;
    hn_duty_init(&d, 0, 0.5);
    /* Preempted: at 10 ms only 1 ms of CPU (due at 2 ms). Behind by 8 ms: all but two
     * slices' worth are forgiven, so the worker is behind by 2 ms, not 8. */
    int64_t due = hn_duty_resume_at(&d, 10 * MS, 1 * MS);
    assert_true(due <= 10 * MS); /* at once */
    assert_int_equal(d.wall0, 6 * MS);
    /* It runs 10-11 ms: 2 ms of CPU, due at 6 + 4 = 10 ms: on it goes. */
    assert_int_equal(hn_duty_resume_at(&d, 11 * MS, 2 * MS), 10 * MS);
    /* 11-12: 3 ms due at 12 ms: caught up, due now... */
    assert_int_equal(hn_duty_resume_at(&d, 12 * MS, 3 * MS), 12 * MS);
    /* ...and runs 12-13: 4 ms due at 14. */
    assert_int_equal(hn_duty_resume_at(&d, 13 * MS, 4 * MS), 14 * MS);
    /* Behind by exactly two slices: nothing forgiven. */
    hn_duty_init(&d, 0, 0.5);
    assert_int_equal(hn_duty_resume_at(&d, 4 * MS, 1 * MS), 2 * MS);
    assert_int_equal(d.wall0, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_half_share_sleeps_a_slice_per_slice),
        cmocka_unit_test(test_full_share_never_sleeps),
        cmocka_unit_test(test_deficit_forgiven_past_two_slices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
