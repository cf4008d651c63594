/*
 * units.c: parsing and printing of sizes, durations and rates (see units.h).
 */
#include "sim/units.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct unit {
    const char *name;
    double scale;
};

static const struct unit size_units[] = {
    {"", 1}, {"B", 1},
    {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0},
    {"K", 1024.0}, {"M", 1048576.0}, {"G", 1073741824.0}, {"T", 1099511627776.0},
    {"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
};

static const struct unit time_units[] = {
    {"ns", 1}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9},
    {"h", 3600e9},
};

/* A non-negative decimal number with an optional fraction; *end after it. */
static int parse_number(const char *s, double *v, const char **end)
{
    if (!((*s >= '0' && *s <= '9') || (*s == '.' && s[1] >= '0' && s[1] <= '9')))
        return -1;
    char *e;
    errno = 0;
    *v = strtod(s, &e);
    /* strtod also takes hex, infinities and exponents: allow digits and one dot only */
    for (const char *p = s; p < e; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '.'))
            return -1;
    if (errno || e == s)
        return -1;
    *end = e;
    return 0;
}

int hn_parse_size(const char *s, uint64_t *out, char *err)
{
    double v;
    const char *unit;
    if (parse_number(s, &v, &unit) < 0) {
        snprintf(err, HN_UNITS_ERR_LEN, "bad size '%s': expected a number with an optional "
                 "unit such as 64MiB", s);
        return -1;
    }
    for (size_t i = 0; i < sizeof size_units / sizeof size_units[0]; i++) {
        if (strcmp(unit, size_units[i].name) == 0) {
            double b = v * size_units[i].scale;
            if (b >= 18446744073709551616.0) {
                snprintf(err, HN_UNITS_ERR_LEN, "size '%s' is too large", s);
                return -1;
            }
            if (b != floor(b)) {
                snprintf(err, HN_UNITS_ERR_LEN, "size '%s' is not a whole number of bytes", s);
                return -1;
            }
            *out = (uint64_t)b;
            return 0;
        }
    }
    snprintf(err, HN_UNITS_ERR_LEN, "bad size '%s': unknown unit '%s' (use B, KiB, MiB, GiB, "
             "TiB, or kB, MB, GB, TB)", s, unit);
    return -1;
}

int hn_parse_duration(const char *s, uint64_t *ns, char *err)
{
    const char *p = s;
    double total = 0;
    if (strcmp(s, "0") == 0) {
        *ns = 0;
        return 0;
    }
    if (!*p)
        goto bad;
    while (*p) {
        double v;
        const char *u;
        if (parse_number(p, &v, &u) < 0)
            goto bad;
        size_t ulen = 0;
        while (u[ulen] && !(u[ulen] >= '0' && u[ulen] <= '9') && u[ulen] != '.')
            ulen++;
        const struct unit *found = NULL;
        for (size_t i = 0; i < sizeof time_units / sizeof time_units[0]; i++)
            if (strlen(time_units[i].name) == ulen && strncmp(u, time_units[i].name, ulen) == 0)
                found = &time_units[i];
        if (!found) {
            snprintf(err, HN_UNITS_ERR_LEN, "bad duration '%s': %s (use ns, us, ms, s, m, h "
                     "as in 1m30s)", s, ulen ? "unknown unit" : "missing unit");
            return -1;
        }
        total += v * found->scale;
        p = u + ulen;
    }
    if (total >= 18446744073709551616.0) {
        snprintf(err, HN_UNITS_ERR_LEN, "duration '%s' is too long", s);
        return -1;
    }
    *ns = (uint64_t)llround(total);
    return 0;
bad:
    snprintf(err, HN_UNITS_ERR_LEN, "bad duration '%s': expected a number and a unit such as "
             "10s or 1m30s", s);
    return -1;
}

int hn_parse_rate(const char *s, double *bytes_per_s, char *err)
{
    const char *slash = strchr(s, '/');
    char size[64];
    uint64_t bytes, ns = 1000000000;
    if (!slash || (size_t)(slash - s) >= sizeof size) {
        snprintf(err, HN_UNITS_ERR_LEN, "bad rate '%s': expected SIZE/s or SIZE/DURATION such "
                 "as 100MiB/s", s);
        return -1;
    }
    memcpy(size, s, (size_t)(slash - s));
    size[slash - s] = 0;
    if (hn_parse_size(size, &bytes, err) < 0)
        return -1;
    if (strcmp(slash + 1, "s") != 0 && hn_parse_duration(slash + 1, &ns, err) < 0)
        return -1;
    if (ns == 0 || bytes == 0) {
        snprintf(err, HN_UNITS_ERR_LEN, "bad rate '%s': must be more than zero", s);
        return -1;
    }
    *bytes_per_s = (double)bytes * 1e9 / (double)ns;
    return 0;
}

char *hn_fmt_size(char *buf, size_t len, double bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    unsigned u = 0;
    while (bytes >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
        bytes /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%.0f B", bytes);
    else
        snprintf(buf, len, "%.*f %s", bytes < 10 ? 2 : bytes < 100 ? 1 : 0, bytes, units[u]);
    return buf;
}

char *hn_fmt_duration(char *buf, size_t len, double ns)
{
    if (ns < 1e3)
        snprintf(buf, len, "%.0f ns", ns);
    else if (ns < 1e6)
        snprintf(buf, len, "%.1f us", ns / 1e3);
    else if (ns < 1e9)
        snprintf(buf, len, "%.1f ms", ns / 1e6);
    else
        snprintf(buf, len, "%.3f s", ns / 1e9);
    return buf;
}
