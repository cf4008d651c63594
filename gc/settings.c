/* gc/settings.c: GOGC and GOMEMLIMIT parsing (see settings.h), after Go's
 * runtime readGOGC, readGOMEMLIMIT, parseByteCount and atoi64.
 */
#include "gc/settings.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "gc/pacer.h"

/* Longest part of a bad value quoted back in a message. */
#define QUOTE_MAX 32

enum parse_result { PARSE_OK, PARSE_SYNTAX, PARSE_RANGE };

/* Go's runtime atoi64 on s[0, len): optional '-', then decimal digits only.
 * Unlike Go, a lone "-" (which Go reads as 0) is a syntax error. */
static enum parse_result parse_int64(const char *s, size_t len, int64_t *out)
{
    bool neg = false;
    if (len > 0 && s[0] == '-') {
        neg = true;
        s++;
        len--;
    }
    if (len == 0)
        return PARSE_SYNTAX;
    uint64_t un = 0;
    bool overflow = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c < '0' || c > '9')
            return PARSE_SYNTAX;
        /* Keep scanning after an overflow so "12x" with many digits is still
         * a syntax error, the more useful message. */
        if (overflow)
            continue;
        if (un > UINT64_MAX / 10) {
            overflow = true;
            continue;
        }
        un *= 10;
        uint64_t un1 = un + (uint64_t)(c - '0');
        if (un1 < un) {
            overflow = true;
            continue;
        }
        un = un1;
    }
    if (overflow)
        return PARSE_RANGE;
    if (!neg && un > (uint64_t)INT64_MAX)
        return PARSE_RANGE;
    if (neg && un > (uint64_t)INT64_MAX + 1)
        return PARSE_RANGE;
    *out = neg ? (int64_t)(0 - un) : (int64_t)un;
    return PARSE_OK;
}

/* Go's parseByteCount: ^[0-9]+(([KMGT]i)?B)?$ (atoi64 also lets "-0"
 * through, which is 0). Negative counts are syntax errors. */
static enum parse_result parse_byte_count(const char *s, int64_t *out)
{
    size_t len = strlen(s);
    if (len == 0)
        return PARSE_SYNTAX;
    char last = s[len - 1];
    int64_t n;
    enum parse_result r;
    if (last >= '0' && last <= '9') {
        r = parse_int64(s, len, &n);
        if (r == PARSE_OK && n < 0)
            r = PARSE_SYNTAX;
        if (r == PARSE_OK)
            *out = n;
        return r;
    }
    if (last != 'B' || len < 2)
        return PARSE_SYNTAX;
    char c = s[len - 2];
    if (c >= '0' && c <= '9') {
        r = parse_int64(s, len - 1, &n);
        if (r == PARSE_OK && n < 0)
            r = PARSE_SYNTAX;
        if (r == PARSE_OK)
            *out = n;
        return r;
    }
    if (c != 'i' || len < 4)
        return PARSE_SYNTAX;
    int power;
    switch (s[len - 3]) {
    case 'K': power = 1; break;
    case 'M': power = 2; break;
    case 'G': power = 3; break;
    case 'T': power = 4; break;
    default: return PARSE_SYNTAX;
    }
    uint64_t m = 1;
    for (int i = 0; i < power; i++)
        m *= 1024;
    r = parse_int64(s, len - 3, &n);
    if (r == PARSE_OK && n < 0)
        r = PARSE_SYNTAX;
    if (r != PARSE_OK)
        return r;
    uint64_t un = (uint64_t)n;
    if (un > UINT64_MAX / m)
        return PARSE_RANGE;
    un *= m;
    if (un > (uint64_t)INT64_MAX)
        return PARSE_RANGE;
    *out = (int64_t)un;
    return PARSE_OK;
}

/* Write `value` into dst for a message: printable ASCII as is, other bytes as
 * \xNN, cut at QUOTE_MAX bytes with "...". */
static void quote(char *dst, size_t cap, const char *value)
{
    size_t o = 0;
    size_t i = 0;
    for (; value[i] != '\0' && i < QUOTE_MAX; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            if (o + 1 >= cap)
                break;
            dst[o++] = (char)c;
        } else {
            if (o + 4 >= cap)
                break;
            static const char hex[] = "0123456789abcdef";
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[c >> 4];
            dst[o++] = hex[c & 15];
        }
    }
    if (value[i] != '\0' && o + 3 < cap) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
}

static int fail(char *err, size_t errlen, const char *name, const char *value,
                const char *why)
{
    if (errlen > 0) {
        char q[QUOTE_MAX * 4 + 4];
        quote(q, sizeof q, value);
        snprintf(err, errlen, "%s=\"%s\": %s", name, q, why);
    }
    return -1;
}

int hn_settings_parse_gogc(const char *s, int32_t *out, char *err, size_t errlen)
{
    if (s == NULL || s[0] == '\0') {
        *out = HN_SETTINGS_GOGC_DEFAULT;
        return 0;
    }
    if (strcmp(s, "off") == 0) {
        *out = HN_PACER_GOGC_OFF;
        return 0;
    }
    int64_t n;
    enum parse_result r = parse_int64(s, strlen(s), &n);
    if (r == PARSE_SYNTAX)
        return fail(err, errlen, "GOGC", s, "want an integer percentage or \"off\"");
    if (r == PARSE_RANGE || n > INT32_MAX || n < INT32_MIN)
        return fail(err, errlen, "GOGC", s, "out of range (at most 2147483647)");
    *out = n < 0 ? HN_PACER_GOGC_OFF : (int32_t)n;
    return 0;
}

int hn_settings_parse_bytes(const char *s, int64_t *out)
{
    if (s == NULL)
        return -1;
    return parse_byte_count(s, out) == PARSE_OK ? 0 : -1;
}

int hn_settings_parse_gomemlimit(const char *s, int64_t *out, char *err, size_t errlen)
{
    if (s == NULL || s[0] == '\0' || strcmp(s, "off") == 0) {
        *out = HN_PACER_NO_LIMIT;
        return 0;
    }
    int64_t n;
    enum parse_result r = parse_byte_count(s, &n);
    if (r == PARSE_SYNTAX)
        return fail(err, errlen, "GOMEMLIMIT", s,
                    "want a byte count with an optional B, KiB, MiB, GiB or TiB suffix, or \"off\"");
    if (r == PARSE_RANGE)
        return fail(err, errlen, "GOMEMLIMIT", s,
                    "out of range (at most 9223372036854775807 bytes)");
    *out = n;
    return 0;
}
