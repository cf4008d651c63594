/* tests/gc/test_settings.c: GOGC and GOMEMLIMIT parsing: what Go accepts
 * (integers, "off", negative GOGC as off, byte counts with B/KiB/MiB/GiB/TiB),
 * what it rejects (other suffixes, spaces, signs, fractions, overflow), and the
 * error messages a tool prints.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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

/* An independent statement of Go's rule, to compare against on random
 * strings: optional '-', one or more digits, then "", "B", "KiB", "MiB",
 * "GiB" or "TiB"; a nonzero negative count is invalid; the value must fit in
 * an int64. Arithmetic in 128 bits, saturating. */
__extension__ typedef unsigned __int128 u128;

static int reference_bytes(const char *s, int64_t *out)
{
    size_t len = strlen(s);
    size_t i = 0;
    bool neg = false;
    if (i < len && s[i] == '-') {
        neg = true;
        i++;
    }
    size_t digits = i;
    u128 v = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        if (v < ((u128)1 << 100))
            v = v * 10 + (u128)(s[i] - '0');
        i++;
    }
    if (i == digits)
        return -1;
    const char *suffix = s + i;
    u128 mult;
    if (strcmp(suffix, "") == 0 || strcmp(suffix, "B") == 0)
        mult = 1;
    else if (strcmp(suffix, "KiB") == 0)
        mult = (u128)1 << 10;
    else if (strcmp(suffix, "MiB") == 0)
        mult = (u128)1 << 20;
    else if (strcmp(suffix, "GiB") == 0)
        mult = (u128)1 << 30;
    else if (strcmp(suffix, "TiB") == 0)
        mult = (u128)1 << 40;
    else
        return -1;
    if (neg && v != 0)
        return -1;
    v *= mult;
    if (v > (u128)INT64_MAX)
        return -1;
    *out = (int64_t)v;
    return 0;
}

static uint64_t xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void test_bytes_against_reference(void **state)
{
    (void)state;
    static const char alphabet[] = "0123456789KMGTiB-+ .kmx";
    static const char *suffixes[] = {"", "B", "KiB", "MiB", "GiB", "TiB", "KB", "iB"};
    uint64_t rng = 0x2545f4914f6cdd1du;
    int valid = 0;
    const int rounds = 200000;
    for (int n = 0; n < rounds; n++) {
        char buf[40];
        size_t len = 0;
        if (xorshift(&rng) % 2) {
            /* Anything from the alphabet. */
            len = (size_t)(xorshift(&rng) % 12);
            for (size_t i = 0; i < len; i++)
                buf[i] = alphabet[xorshift(&rng) % (sizeof alphabet - 1)];
            buf[len] = '\0';
        } else {
            /* Near-valid: [-]digits[suffix], up to 22 digits (overflow). */
            if (xorshift(&rng) % 8 == 0)
                buf[len++] = '-';
            size_t nd = 1 + (size_t)(xorshift(&rng) % 22);
            for (size_t i = 0; i < nd; i++)
                buf[len++] = (char)('0' + xorshift(&rng) % 10);
            buf[len] = '\0';
            strcat(buf, suffixes[xorshift(&rng) % 8]);
        }
        int64_t got = -7, want = -7;
        int rg = hn_settings_parse_bytes(buf, &got);
        int rw = reference_bytes(buf, &want);
        if (rg != rw || (rg == 0 && got != want))
            fail_msg("\"%s\": parser %d/%lld, reference %d/%lld", buf, rg,
                     (long long)got, rw, (long long)want);
        valid += rg == 0;
    }
    /* Both outcomes were exercised in bulk. */
    assert_true(valid > rounds / 10 && valid < rounds / 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gogc_valid),
        cmocka_unit_test(test_gogc_invalid),
        cmocka_unit_test(test_gomemlimit_valid),
        cmocka_unit_test(test_gomemlimit_invalid),
        cmocka_unit_test(test_error_buffer_handling),
        cmocka_unit_test(test_bytes_against_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
