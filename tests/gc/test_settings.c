/* tests/gc/test_settings.c: GOGC and GOMEMLIMIT parsing: what Go accepts
 * (integers, "off", negative GOGC as off, byte counts with B/KiB/MiB/GiB/TiB),
 * what it rejects (other suffixes, spaces, signs, fractions, overflow), and the
 * error messages a tool prints.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gc/pacer.h"
#include "gc/settings.h"

static void test_gogc_valid(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int32_t want;
    } cases[] = {
        {"100", 100},
        {"0", 0},
        {"50", 50},
        {"200", 200},
        {"007", 7},
        {"2147483647", 2147483647},
        {"off", HN_PACER_GOGC_OFF},
        {"-1", HN_PACER_GOGC_OFF},        /* Go: negative = off */
        {"-2147483648", HN_PACER_GOGC_OFF},
        {"-0", 0},
        {"", HN_SETTINGS_GOGC_DEFAULT},   /* unset */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int32_t v = 12345;
        char err[HN_SETTINGS_ERR_MAX] = "";
        assert_int_equal(hn_settings_parse_gogc(cases[i].s, &v, err, sizeof err), 0);
        assert_int_equal(v, cases[i].want);
        assert_string_equal(err, "");
    }
    int32_t v = 0;
    assert_int_equal(hn_settings_parse_gogc(NULL, &v, NULL, 0), 0);
    assert_int_equal(v, 100);
}

static void test_gogc_invalid(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        const char *msg;
    } cases[] = {
        {"abc", "GOGC=\"abc\": want an integer percentage or \"off\""},
        {"OFF", "GOGC=\"OFF\": want an integer percentage or \"off\""},
        {" 100", "GOGC=\" 100\": want an integer percentage or \"off\""},
        {"100 ", "GOGC=\"100 \": want an integer percentage or \"off\""},
        {"+100", "GOGC=\"+100\": want an integer percentage or \"off\""},
        {"1e3", "GOGC=\"1e3\": want an integer percentage or \"off\""},
        {"0x10", "GOGC=\"0x10\": want an integer percentage or \"off\""},
        {"50%", "GOGC=\"50%\": want an integer percentage or \"off\""},
        {"-", "GOGC=\"-\": want an integer percentage or \"off\""},
        {"2147483648", "GOGC=\"2147483648\": out of range (at most 2147483647)"},
        {"-2147483649", "GOGC=\"-2147483649\": out of range (at most 2147483647)"},
        {"99999999999999999999999", "GOGC=\"99999999999999999999999\": out of range (at most 2147483647)"},
        {"9999999999999999999999x", "GOGC=\"9999999999999999999999x\": want an integer percentage or \"off\""},
        {"1\n", "GOGC=\"1\\x0a\": want an integer percentage or \"off\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int32_t v = 12345;
        char err[HN_SETTINGS_ERR_MAX];
        assert_int_equal(hn_settings_parse_gogc(cases[i].s, &v, err, sizeof err), -1);
        assert_int_equal(v, 12345); /* untouched */
        assert_string_equal(err, cases[i].msg);
    }
}

#define KiB ((int64_t)1 << 10)
#define MiB ((int64_t)1 << 20)
#define GiB ((int64_t)1 << 30)
#define TiB ((int64_t)1 << 40)

static void test_gomemlimit_valid(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t want;
    } cases[] = {
        {"0", 0},
        {"12345", 12345},
        {"12345B", 12345},
        {"0B", 0},
        {"1KiB", KiB},
        {"64MiB", 64 * MiB},
        {"512MiB", 512 * MiB},
        {"1GiB", GiB},
        {"3TiB", 3 * TiB},
        {"-0", 0},               /* Go's atoi64 lets "-0" through */
        {"8388607TiB", 8388607 * TiB},
        {"9223372036854775807", INT64_MAX},
        {"9223372036854775807B", INT64_MAX},
        {"off", INT64_MAX},
        {"", INT64_MAX},         /* unset */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = 12345;
        char err[HN_SETTINGS_ERR_MAX] = "";
        assert_int_equal(hn_settings_parse_gomemlimit(cases[i].s, &v, err, sizeof err), 0);
        assert_int_equal(v, cases[i].want);
        assert_string_equal(err, "");
    }
    int64_t v = 0;
    assert_int_equal(hn_settings_parse_gomemlimit(NULL, &v, NULL, 0), 0);
    assert_int_equal(v, HN_PACER_NO_LIMIT);
    assert_int_equal(hn_settings_parse_bytes("2GiB", &v), 0);
    assert_int_equal(v, 2 * GiB);
    assert_int_equal(hn_settings_parse_bytes("off", &v), -1);
    assert_int_equal(hn_settings_parse_bytes(NULL, &v), -1);
}

static void test_gomemlimit_invalid(void **state)
{
    (void)state;
    static const char syntax[] =
        "want a byte count with an optional B, KiB, MiB, GiB or TiB suffix, or \"off\"";
    static const char range[] = "out of range (at most 9223372036854775807 bytes)";
    static const struct {
        const char *s;
        const char *why;
    } cases[] = {
        {"64MB", syntax},      /* SI-looking suffixes are not Go's */
        {"64M", syntax},
        {"64mib", syntax},
        {"64 MiB", syntax},
        {" 64MiB", syntax},
        {"64MiB ", syntax},
        {"1.5GiB", syntax},
        {"1PiB", syntax},
        {"KiB", syntax},
        {"B", syntax},
        {"iB", syntax},
        {"-1", syntax},
        {"-1MiB", syntax},
        {"+1", syntax},
        {"OFF", syntax},
        {"none", syntax},
        {"9223372036854775808", range},
        {"9223372036854775808B", range},
        {"8388608TiB", range},
        {"18446744073709551616KiB", range},
        {"99999999999999999999999999", range},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = 12345;
        char err[HN_SETTINGS_ERR_MAX];
        char want[HN_SETTINGS_ERR_MAX];
        assert_int_equal(hn_settings_parse_gomemlimit(cases[i].s, &v, err, sizeof err), -1);
        assert_int_equal(v, 12345);
        snprintf(want, sizeof want, "GOMEMLIMIT=\"%s\": %s", cases[i].s, cases[i].why);
        assert_string_equal(err, want);
        assert_int_equal(hn_settings_parse_bytes(cases[i].s, &v), -1);
    }
}

static void test_error_buffer_handling(void **state)
{
    (void)state;
    int64_t v;
    /* A long value is quoted back cut at 32 bytes. */
    char err[HN_SETTINGS_ERR_MAX];
    assert_int_equal(hn_settings_parse_gomemlimit(
                         "0123456789abcdef0123456789abcdef0123456789", &v, err, sizeof err), -1);
    assert_true(strncmp(err, "GOMEMLIMIT=\"0123456789abcdef0123456789abcdef...\": ", 50) == 0);
    /* A small buffer is cut, never overrun. */
    char small[12];
    memset(small, 'x', sizeof small);
    assert_int_equal(hn_settings_parse_gomemlimit("nope", &v, small, 8), -1);
    assert_string_equal(small, "GOMEMLI");
    assert_int_equal(small[8], 'x');
    /* No buffer at all: still an error. */
    int32_t g;
    assert_int_equal(hn_settings_parse_gogc("nope", &g, NULL, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gogc_valid),
        cmocka_unit_test(test_gogc_invalid),
        cmocka_unit_test(test_gomemlimit_valid),
        cmocka_unit_test(test_gomemlimit_invalid),
        cmocka_unit_test(test_error_buffer_handling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
