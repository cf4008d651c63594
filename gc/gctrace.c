/* gc/gctrace.c: the gctrace line (see gctrace.h), built with hand-written
 * number formatting that reproduces Go's itoaDiv and fmtNSAsMS exactly.
 */
#include "gc/gctrace.h"

#include <string.h>

/* A cursor over the caller's buffer that counts what it could not store. */
typedef struct out {
    char *buf;
    size_t cap;
    size_t len; /* length of the whole line so far, stored or not */
} out;

static void put(out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++, o->len++)
        if (o->len + 1 < o->cap)
            o->buf[o->len] = s[i];
}

static void put_str(out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* val / 10^dec with exactly dec decimals, right-aligned into tmp[24];
 * returns the first character (Go's itoaDiv). */
static char *itoa_div(char tmp[24], uint64_t val, int dec)
{
    int i = 23;
    tmp[i] = '\0';
    i--;
    int idec = i - dec;
    while (val >= 10 || i >= idec) {
        tmp[i--] = (char)('0' + val % 10);
        if (i == idec)
            tmp[i--] = '.';
        val /= 10;
    }
    tmp[i] = (char)('0' + val);
    return tmp + i;
}

/* Plain decimal, as Go's print does for integers. (itoa_div with dec 0
 * would print a single digit with a leading 0; Go only uses it on values of
 * 10 and up.) */
static void put_u64(out *o, uint64_t v)
{
    char tmp[24];
    int i = 23;
    tmp[i] = '\0';
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    put_str(o, tmp + i);
}

size_t hn_gctrace_ms(char *buf, uint64_t ns)
{
    char tmp[24];
    const char *s;
    if (ns >= 10000000) {
        /* 10 ms and up: whole milliseconds. */
        s = itoa_div(tmp, ns / 1000000, 0);
    } else {
        /* Two significant digits of microseconds, at most three decimals. */
        uint64_t x = ns / 1000;
        if (x == 0) {
            s = "0";
        } else {
            int dec = 3;
            while (x >= 100) {
                x /= 10;
                dec--;
            }
            s = itoa_div(tmp, x, dec);
        }
    }
    size_t n = strlen(s);
    memcpy(buf, s, n + 1);
    return n;
}

static void put_ms(out *o, int64_t ns)
{
    char tmp[24];
    hn_gctrace_ms(tmp, ns < 0 ? 0 : (uint64_t)ns);
    put_str(o, tmp);
}

size_t hn_gctrace_format(char *buf, size_t cap, const hn_gctrace_cycle *c)
{
    out o = {buf, cap, 0};
    char tmp[24];

    put_str(&o, "gc ");
    put_u64(&o, c->num);
    put_str(&o, " @");
    uint64_t ms = c->since_start_ns < 0 ? 0 : (uint64_t)c->since_start_ns / 1000000;
    put_str(&o, itoa_div(tmp, ms, 3));
    put_str(&o, "s ");
    /* Go: int(gc_cpu_fraction * 100), truncated. */
    double pct = c->gc_cpu_fraction * 100;
    put_u64(&o, pct > 0 && pct < 1e18 ? (uint64_t)pct : 0);
    put_str(&o, "%: ");

    put_ms(&o, c->stw1_ns);
    put_str(&o, "+");
    put_ms(&o, c->mark_ns);
    put_str(&o, "+");
    put_ms(&o, c->stw2_ns);
    put_str(&o, " ms clock, ");

    put_ms(&o, c->stw1_cpu_ns);
    put_str(&o, "+");
    put_ms(&o, c->assist_cpu_ns);
    put_str(&o, "/");
    put_ms(&o, c->background_cpu_ns);
    put_str(&o, "/");
    put_ms(&o, c->idle_cpu_ns);
    put_str(&o, "+");
    put_ms(&o, c->stw2_cpu_ns);
    put_str(&o, " ms cpu, ");

    put_u64(&o, c->heap_start >> 20);
    put_str(&o, "->");
    put_u64(&o, c->heap_end >> 20);
    put_str(&o, "->");
    put_u64(&o, c->heap_marked >> 20);
    put_str(&o, " MB, ");
    put_u64(&o, c->heap_goal >> 20);
    put_str(&o, " MB goal, ");
    put_u64(&o, c->stacks >> 20);
    put_str(&o, " MB stacks, ");
    put_u64(&o, c->globals >> 20);
    put_str(&o, " MB globals, ");
    put_u64(&o, c->procs < 0 ? 0 : (uint64_t)c->procs);
    put_str(&o, " P");
    if (c->forced)
        put_str(&o, " (forced)");

    if (cap > 0)
        buf[o.len < cap ? o.len : cap - 1] = '\0';
    return o.len;
}

size_t hn_gctrace_format_pauses(char *buf, size_t cap, uint64_t num, const int64_t parts[6])
{
    out o = {buf, cap, 0};
    put_str(&o, "gc ");
    put_u64(&o, num);
    put_str(&o, " pauses: ");
    for (int i = 0; i < 6; i++) {
        put_ms(&o, parts[i]);
        put_str(&o, i == 2 ? " ms, " : i == 5 ? " ms (stop+work+restart)" : "+");
    }
    if (cap > 0)
        buf[o.len < cap ? o.len : cap - 1] = '\0';
    return o.len;
}
