/*
 * trace_large.c: the large objects of a trace, one line per allocation and per free of
 * one: its time in the trace (seconds), what happened, its id and size in bytes. A
 * realloc prints as the free of the old object and the allocation of the new one.
 * What docs/gcsim.md reads a program's buffer growth from (sqlite's, at its edge).
 *
 *   build/sim/trace_large trace.bin [MIN_BYTES]     (default 200000)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim/trace_read.h"
#include "sim/u64map.h"

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: trace_large trace.bin [MIN_BYTES]\n");
        return 2;
    }
    char *end = NULL;
    unsigned long long min = argc == 3 ? strtoull(argv[2], &end, 10) : 200000;
    if (argc == 3 && (*end || end == argv[2] || min == 0)) {
        fprintf(stderr, "trace_large: MIN_BYTES: expected a positive number, got '%s'\n",
                argv[2]);
        return 2;
    }
    char err[HN_TRACE_ERR_LEN];
    hn_trace_reader *r = hn_trace_reader_open(argv[1], err);
    if (!r) {
        fprintf(stderr, "trace_large: %s\n", err);
        return 1;
    }
    hn_u64map large; /* id + 1 -> size, of the live objects of at least min bytes */
    if (hn_u64map_init(&large) < 0) {
        fprintf(stderr, "trace_large: out of memory\n");
        return 1;
    }
    hn_trace_event ev = {0};
    int rc;
    while ((rc = hn_trace_next(r, &ev)) > 0) {
        double t = (double)ev.time_ns / 1e9;
        if (ev.kind == HN_EV_FREE || ev.kind == HN_EV_REALLOC) {
            uint64_t id = ev.kind == HN_EV_FREE ? ev.id : ev.old_id;
            hn_u64map_slot *s = hn_u64map_find(&large, id + 1);
            if (s) {
                printf("%.4f free %" PRIu64 " %" PRIu64 "\n", t, id, s->a);
                hn_u64map_remove_slot(&large, s);
            }
        }
        if (ev.kind != HN_EV_FREE && ev.size >= min) {
            printf("%.4f alloc %" PRIu64 " %" PRIu64 "\n", t, ev.id, ev.size);
            if (hn_u64map_insert(&large, ev.id + 1, ev.size, 0) < 0) {
                fprintf(stderr, "trace_large: out of memory\n");
                rc = -1;
                break;
            }
        }
    }
    if (rc < 0 && hn_trace_reader_error(r))
        fprintf(stderr, "trace_large: %s\n", hn_trace_reader_error(r));
    hn_u64map_destroy(&large);
    hn_trace_reader_close(r);
    return rc < 0 ? 1 : 0;
}
