/*
 * fuzz_reader.c: libFuzzer target for the trace reader.
 *
 * Each input is written to a memory file and read to the end with the same open and
 * hn_trace_next calls every tool makes. The reader must return an error, a warning or a
 * clean end, never crash, hang or read out of bounds (AddressSanitizer watches), and it
 * must keep its own invariants: events are counted, times never go backwards, ids stay
 * below the objects created, thread numbers below the threads seen.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sim/trace_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz", MFD_CLOEXEC);
    if (fd < 0)
        abort();
    if (size && write(fd, data, size) != (ssize_t)size)
        abort();
    lseek(fd, 0, SEEK_SET);
    char err[HN_TRACE_ERR_LEN];
    hn_trace_reader *r = hn_trace_reader_open_fd(fd, "fuzz.bin", err);
    if (!r)
        return 0;
    hn_trace_event ev;
    uint64_t last_time = 0, n = 0;
    int rc;
    while ((rc = hn_trace_next(r, &ev)) > 0) {
        n++;
        if (ev.time_ns < last_time || ev.id >= hn_trace_reader_objects(r) ||
            ev.thread >= r->nthreads || ev.kind >= HN_EV_NKINDS)
            abort();
        last_time = ev.time_ns;
    }
    if (n != r->events || (rc < 0 && !hn_trace_reader_error(r)[0]))
        abort();
    hn_trace_reader_close(r);
    return 0;
}
