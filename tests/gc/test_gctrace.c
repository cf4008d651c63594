/* tests/gc/test_gctrace.c: the gctrace line, compared byte for byte with what
 * Go prints for the same numbers, including its truncation of milliseconds
 * (fmtNSAsMS), seconds (itoaDiv) and megabytes (>> 20).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gc/gctrace.h"

#define MiB ((uint64_t)1 << 20)

static void test_ms_formatting(void **state)
{
    (void)state;
    static const struct {
        uint64_t ns;
        const char *want;
    } cases[] = {
        {0, "0"},
        {999, "0"},              /* under 1 us */
        {1000, "0.001"},
        {21999, "0.021"},        /* truncated, not rounded */
        {45000, "0.045"},
        {99999, "0.099"},
        {100000, "0.10"},        /* two significant digits */
        {170000, "0.17"},
        {459999, "0.45"},
        {999999, "0.99"},
        {1000000, "1.0"},
        {5300000, "5.3"},
        {5399999, "5.3"},
        {9999999, "9.9"},
        {10000000, "10"},        /* 10 ms and up: whole ms */
        {10999999, "10"},
        {20500000, "20"},
        {123456789, "123"},
        {5342000000, "5342"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[24];
        size_t n = hn_gctrace_ms(buf, cases[i].ns);
        assert_string_equal(buf, cases[i].want);
        assert_int_equal(n, strlen(cases[i].want));
    }
}

static hn_gctrace_cycle example(void)
{
    return (hn_gctrace_cycle){
        .num = 12,
        .since_start_ns = 3456789123,  /* @3.456s */
        .gc_cpu_fraction = 0.0499,     /* 4% */
        .stw1_ns = 21500,              /* 0.021 */
        .mark_ns = 5399999,            /* 5.3 */
        .stw2_ns = 45000,              /* 0.045 */
        .stw1_cpu_ns = 172000,         /* 0.17 */
        .assist_cpu_ns = 410000,       /* 0.41 */
        .background_cpu_ns = 10900000, /* 10 */
        .idle_cpu_ns = 20100000,       /* 20 */
        .stw2_cpu_ns = 360000,         /* 0.36 */
        .heap_start = 40 * MiB + MiB / 2,
        .heap_end = 41 * MiB + MiB - 1,
        .heap_marked = 20 * MiB,
        .heap_goal = 42 * MiB + 7,
        .stacks = 1 * MiB,
        .globals = 1 * MiB - 1,
        .procs = 8,
    };
}

static void test_line(void **state)
{
    (void)state;
    hn_gctrace_cycle c = example();
    char buf[HN_GCTRACE_LINE_MAX];
    const char *want = "gc 12 @3.456s 4%: 0.021+5.3+0.045 ms clock, "
                       "0.17+0.41/10/20+0.36 ms cpu, 40->41->20 MB, 42 MB goal, "
                       "1 MB stacks, 0 MB globals, 8 P";
    size_t n = hn_gctrace_format(buf, sizeof buf, &c);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));

    /* The first cycle of a fresh program, forced. */
    c = (hn_gctrace_cycle){
        .num = 1,
        .since_start_ns = 5000000, /* 5 ms: "@0.005s" */
        .gc_cpu_fraction = 0.999,
        .stw1_ns = 999,
        .mark_ns = 12345678,
        .stw2_ns = 1000,
        .heap_start = 4 * MiB,
        .heap_end = 4 * MiB,
        .heap_marked = 0,
        .heap_goal = 4 * MiB,
        .procs = 1,
        .forced = true,
    };
    hn_gctrace_format(buf, sizeof buf, &c);
    assert_string_equal(buf, "gc 1 @0.005s 99%: 0+12+0.001 ms clock, "
                             "0+0/0/0+0 ms cpu, 4->4->0 MB, 4 MB goal, "
                             "0 MB stacks, 0 MB globals, 1 P (forced)");

    /* Odd inputs: negative times print as 0, a long-running program. */
    c.since_start_ns = -1;
    c.stw1_ns = -5;
    c.forced = false;
    c.num = 18446744073709551615u;
    c.gc_cpu_fraction = -0.5;
    hn_gctrace_format(buf, sizeof buf, &c);
    assert_string_equal(buf, "gc 18446744073709551615 @0.000s 0%: 0+12+0.001 ms clock, "
                             "0+0/0/0+0 ms cpu, 4->4->0 MB, 4 MB goal, "
                             "0 MB stacks, 0 MB globals, 1 P");
    c.since_start_ns = 86400123456789; /* a day */
    hn_gctrace_format(buf, sizeof buf, &c);
    assert_true(strncmp(buf, "gc 18446744073709551615 @86400.123s 0%:", 39) == 0);
}

static void test_truncated_buffer(void **state)
{
    (void)state;
    hn_gctrace_cycle c = example();
    char full[HN_GCTRACE_LINE_MAX];
    size_t n = hn_gctrace_format(full, sizeof full, &c);

    char small[16];
    memset(small, 'x', sizeof small);
    size_t m = hn_gctrace_format(small, 10, &c);
    assert_int_equal(m, n); /* the whole length, like snprintf */
    assert_string_equal(small, "gc 12 @3.");
    assert_int_equal(small[10], 'x'); /* nothing past cap */

    assert_int_equal(hn_gctrace_format(NULL, 0, &c), n);
    /* Exactly enough room. */
    char exact[HN_GCTRACE_LINE_MAX];
    assert_int_equal(hn_gctrace_format(exact, n + 1, &c), n);
    assert_string_equal(exact, full);
}

/* HERON_GCTRACE=2's pause line: each part in fmtNSAsMS form, negatives as 0, cut
 * like the cycle line. */
static void test_pauses_line(void **state)
{
    (void)state;
    const int64_t parts[6] = {2000, 9999, 6000, 8600000, 70000, -5};
    char buf[HN_GCTRACE_LINE_MAX];
    size_t n = hn_gctrace_format_pauses(buf, sizeof buf, 22, parts);
    assert_string_equal(buf, "gc 22 pauses: 0.002+0.009+0.006 ms, 8.6+0.070+0 ms "
                             "(stop+work+restart)");
    assert_int_equal(n, strlen(buf));
    char small[8];
    assert_int_equal(hn_gctrace_format_pauses(small, sizeof small, 22, parts), n);
    assert_string_equal(small, "gc 22 p");
}

static void test_longest_line_fits(void **state)
{
    (void)state;
    hn_gctrace_cycle c = {
        .num = UINT64_MAX,
        .since_start_ns = INT64_MAX,
        .gc_cpu_fraction = 1.0,
        .stw1_ns = INT64_MAX, .mark_ns = INT64_MAX, .stw2_ns = INT64_MAX,
        .stw1_cpu_ns = INT64_MAX, .assist_cpu_ns = INT64_MAX,
        .background_cpu_ns = INT64_MAX, .idle_cpu_ns = INT64_MAX,
        .stw2_cpu_ns = INT64_MAX,
        .heap_start = UINT64_MAX, .heap_end = UINT64_MAX, .heap_marked = UINT64_MAX,
        .heap_goal = UINT64_MAX, .stacks = UINT64_MAX, .globals = UINT64_MAX,
        .procs = INT32_MAX,
        .forced = true,
    };
    char buf[HN_GCTRACE_LINE_MAX];
    size_t n = hn_gctrace_format(buf, sizeof buf, &c);
    assert_true(n < sizeof buf);
    assert_int_equal(strlen(buf), n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ms_formatting),
        cmocka_unit_test(test_line),
        cmocka_unit_test(test_truncated_buffer),
        cmocka_unit_test(test_longest_line_fits),
        cmocka_unit_test(test_pauses_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
