/* gc/gctrace.h: one line per GC cycle in the format of Go's GODEBUG=gctrace=1
 * (gcMarkTermination in Go's mgc.go), for heron's collector and for gcsim:
 *
 *   gc 12 @3.456s 4%: 0.021+5.3+0.045 ms clock, 0.17+0.41/10/20+0.36 ms cpu,
 *   40->41->20 MB, 42 MB goal, 1 MB stacks, 0 MB globals, 8 P
 *
 * (one line; wrapped here). Fields: cycle number; start of the cycle since
 * the program started, in seconds with 3 decimals; GC CPU since the program
 * started, in percent, truncated; wall clock of sweep termination (pause 1) +
 * concurrent mark + mark termination (pause 2); CPU of pause 1 + assist /
 * background / idle marking + pause 2; heap at the start of the cycle -> at
 * the end of marking -> marked live; goal; stacks scanned; globals; procs;
 * " (forced)" for a cycle the program asked for.
 *
 * Number formatting is Go's, digit for digit: every figure is truncated, never
 * rounded. Times of 10 ms or more print as whole milliseconds ("5342"); under
 * that, as two significant digits of microseconds with at most three decimals
 * ("5.3", "0.45", "0.021", "0.001"), and "0" below 1 us. Sizes are whole MiB,
 * truncated (bytes >> 20), printed as "MB" as Go does.
 *
 * Formatting never allocates and never calls stdio, so it is safe anywhere,
 * including in a pause or a signal handler.
 */
#ifndef HERON_GC_GCTRACE_H
#define HERON_GC_GCTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest possible line plus the NUL, with every field at its maximum. */
#define HN_GCTRACE_LINE_MAX 384

typedef struct hn_gctrace_cycle {
    uint64_t num;            /* cycle number, from 1 */
    int64_t since_start_ns;  /* cycle start (sweep termination) since program start */
    double gc_cpu_fraction;  /* GC CPU / available CPU since program start, 0..1 */
    int64_t stw1_ns;         /* wall: sweep termination pause */
    int64_t mark_ns;         /* wall: concurrent mark */
    int64_t stw2_ns;         /* wall: mark termination pause */
    int64_t stw1_cpu_ns;     /* CPU: pause 1 (wall * procs stopped) */
    int64_t assist_cpu_ns;   /* CPU: mark assists */
    int64_t background_cpu_ns; /* CPU: dedicated + fractional workers */
    int64_t idle_cpu_ns;     /* CPU: idle-priority mark workers */
    int64_t stw2_cpu_ns;     /* CPU: pause 2 */
    uint64_t heap_start;     /* bytes live by the pacer's count at the trigger */
    uint64_t heap_end;       /* ... at the end of marking */
    uint64_t heap_marked;    /* bytes marked live */
    uint64_t heap_goal;      /* the goal of this cycle */
    uint64_t stacks;         /* stack bytes scanned */
    uint64_t globals;        /* global bytes scanned */
    int32_t procs;
    bool forced;
} hn_gctrace_cycle;

/* Format the line (no trailing newline) into buf, always NUL-terminated when
 * cap > 0. Returns the length of the whole line, like snprintf: a result >=
 * cap means it was cut short. Negative times print as 0. */
size_t hn_gctrace_format(char *buf, size_t cap, const hn_gctrace_cycle *c);

/* HERON_GCTRACE=2's second line for cycle num (no trailing newline), each pause's
 * parts: stop (signals sent until every thread stopped), work, restart; parts is
 * {stop1, work1, restart1, stop2, work2, restart2} in ns. E.g. "gc 7 pauses:
 * 0.002+0.009+0.006 ms, 0.041+0.003+0.012 ms (stop+work+restart)". Same buffer rules
 * as hn_gctrace_format. */
size_t hn_gctrace_format_pauses(char *buf, size_t cap, uint64_t num, const int64_t parts[6]);

/* Go's fmtNSAsMS for one duration: the "5.3" of "5.3 ms". buf needs 24 bytes.
 * Returns the length written (NUL-terminated). */
size_t hn_gctrace_ms(char *buf, uint64_t ns);

#endif
