/*
 * trace_bench.c: how fast the trace reader decodes, in events per second on one core.
 *
 *   build/sim/trace_bench [-n RUNS] trace.bin...
 *
 * Each trace is read RUNS times (default 5) after one discarded warm-up read, through
 * the same hn_trace_next loop the tools use; a run reads the trace over and over for at
 * least RUN_SECONDS, so short traces are not timed on a few milliseconds, summing fields of each event so the
 * decoding cannot be optimised away. Prints the median, minimum and maximum rate. The
 * warm-up brings the file into the page cache, so the figure is the decoder's (with its
 * checksums and read(2) calls), not the disk's. Times are CPU seconds of this process,
 * so the rate is events per second of one core, whatever else the machine runs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/trace_read.h"

#define MAX_RUNS 100
/* Long enough that a time slice lost to another process moves a run by a few per cent. */
#define RUN_SECONDS 0.5

/* CPU time of this process (user and system): the machine is shared, and a wall clock
 * would count the time slices other processes took as the reader's. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Reads path once; returns the seconds taken, or -1. */
static double read_once(const char *path, uint64_t *events, uint64_t *sum)
{
    char err[HN_TRACE_ERR_LEN];
    double t = now_s();
    hn_trace_reader *r = hn_trace_reader_open(path, err);
    if (!r) {
        fprintf(stderr, "trace_bench: error: %s\n", err);
        return -1;
    }
    hn_trace_event ev = {0};
    int rc;
    uint64_t s = 0;
    while ((rc = hn_trace_next(r, &ev)) > 0)
        s += ev.size + ev.id + ev.thread;
    *events = r->events;
    *sum += s;
    if (rc < 0) {
        fprintf(stderr, "trace_bench: error: %s\n", hn_trace_reader_error(r));
        hn_trace_reader_close(r);
        return -1;
    }
    hn_trace_reader_close(r);
    return now_s() - t;
}

int main(int argc, char **argv)
{
    int runs = 5, first = 1;
    if (argc > 2 && strcmp(argv[1], "-n") == 0) {
        runs = atoi(argv[2]);
        first = 3;
    }
    if (first >= argc || runs < 1 || runs > MAX_RUNS) {
        fprintf(stderr, "usage: trace_bench [-n RUNS (1-%d)] trace.bin...\n", MAX_RUNS);
        return 2;
    }
    uint64_t sum = 0;
    printf("%-36s %12s %12s %12s %12s\n", "trace", "events", "median", "min", "max");
    for (int i = first; i < argc; i++) {
        uint64_t events = 0;
        double rate[MAX_RUNS];
        if (read_once(argv[i], &events, &sum) < 0)
            return 1;
        for (int k = 0; k < runs; k++) {
            double total = 0, all = 0;
            while (total < RUN_SECONDS) {
                double s = read_once(argv[i], &events, &sum);
                if (s < 0)
                    return 1;
                total += s;
                all += (double)events;
            }
            rate[k] = all / total / 1e6;
        }
        qsort(rate, (size_t)runs, sizeof rate[0], cmp_double);
        printf("%-36s %12" PRIu64 " %8.1f M/s %8.1f M/s %8.1f M/s%s\n", argv[i], events,
               rate[runs / 2], rate[0], rate[runs - 1],
               (rate[runs - 1] - rate[0]) > 0.05 * rate[runs / 2] ? "  (spread > 5%)" : "");
    }
    fprintf(stderr, "(checksum of the decoded fields: %" PRIx64 ")\n", sum);
    return 0;
}
