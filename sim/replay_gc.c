/*
 * replay_gc.c: `gcsim --replay=gc trace.bin`: the trace run on heron's real collector,
 * measured the way the simulation is reported, to check the one against the other.
 *
 * 1. A child process per setting (the collector starts once per process and keeps its
 *    heap), forked before the collector starts; it sends its result back on a pipe.
 * 2. In the child: heron_gc_init with the GOGC asked for, background sweeping on.
 *    Every allocation event becomes heron_gc_malloc(size), a conservatively scanned
 *    object as a program's objects holding pointers would be (the trace does not say
 *    which hold pointers; scanning every byte is the costly case, and the cost model's
 *    per-byte mark cost is measured on it). A realloc copies the old contents, as
 *    realloc would. Each object is held in a table of roots
 *    indexed by object id: the simulator's map (sim/objmap.h), whose slots are
 *    registered as a root range (re-registered when it grows), so an object stays
 *    reachable exactly while the trace holds it. A free removes its slot, clearing the
 *    pointer: the object's last reference is gone and the next cycle reclaims it.
 * 3. Measured: cycles, stop-the-world pauses (the collector's own counters), the heap
 *    (bytes of objects not yet swept, read after every event, and just before each
 *    cycle: the heap before the allocation that ran it plus that object), the live
 *    heap each cycle marked,
 *    RSS from /proc/self/statm above what the process held before the replay, and GC
 *    CPU = pause time + the CPU of the collector's own threads (sweeper, finalizer),
 *    from their thread CPU clocks in /proc/self/task.
 * Time: the replay loop runs as fast as it can, which is not the program's speed, so
 * GC CPU % is taken against the trace's own time line plus the pauses, as the
 * simulation does: (trace duration + pauses) x procs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "heron/gc.h"
#include "sim/gcsim.h"
#include "sim/replay.h"
#include "sim/trace_read.h"
#include "sim/objmap.h"

/* Events between samples of RSS: a statm read costs a few microseconds; every 64
 * events keeps that near 1 % of the replay. (The heap is read after every event.) */
#define GC_SAMPLE_EVERY 64

static uint64_t rss_bytes(void)
{
    int fd = open("/proc/self/statm", O_RDONLY);
    if (fd < 0)
        return 0;
    char buf[128];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    unsigned long long size, res;
    if (sscanf(buf, "%llu %llu", &size, &res) != 2)
        return 0;
    return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* CPU time of every thread of this process but the calling one, in ns, from each
 * thread's /proc/self/task/TID/schedstat (nanoseconds on the CPU; the clock-tick
 * figures of stat are 10 ms coarse, longer than a short trace's whole sweep time). */
static double other_threads_cpu_ns(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return 0;
    pid_t me = (pid_t)gettid();
    double total = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == me)
            continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        unsigned long long ns = 0;
        if (fscanf(f, "%llu", &ns) == 1)
            total += (double)ns;
        fclose(f);
    }
    closedir(d);
    return total;
}

struct roots {
    hn_objmap map;
    void *registered;
    size_t bytes;
};

/* Keeps the map's slot array registered as the one root range. */
static int roots_sync(struct roots *r)
{
    if (r->registered == r->map.slots)
        return 0;
    if (r->registered)
        heron_gc_remove_root(r->registered);
    r->registered = r->map.slots;
    r->bytes = (r->map.mask + 1) * sizeof(hn_objmap_slot);
    return heron_gc_add_root(r->registered, r->bytes);
}

int hn_replay_gc_run(const char *trace, int32_t gogc, int32_t procs,
                     hn_replay_gc_result *out, char *err)
{
    memset(out, 0, sizeof *out);
    char terr[HN_TRACE_ERR_LEN];
    hn_trace_reader *r = hn_trace_reader_open(trace, terr);
    if (!r) {
        snprintf(err, HN_REPORT_ERR_LEN, "%s", terr);
        return -1;
    }
    struct roots roots = {0};
    if (hn_objmap_init(&roots.map) < 0) {
        snprintf(err, HN_REPORT_ERR_LEN, "out of memory");
        hn_trace_reader_close(r);
        return -1;
    }
    heron_gc_config_t cfg = {0};
    cfg.gogc = gogc < 0 ? -1 : gogc == 0 ? 1 : gogc;
    cfg.flags = HERON_GC_FINALIZE_EXPLICIT;
    int e = heron_gc_init(&cfg);
    if (e != 0 || roots_sync(&roots) != 0) {
        snprintf(err, HN_REPORT_ERR_LEN, "the collector did not start: %s", strerror(e ? e : ENOMEM));
        hn_trace_reader_close(r);
        return -1;
    }
    uint64_t rss0 = rss_bytes();
    double other0 = other_threads_cpu_ns();
    hn_summary *u = &out->sum;
    heron_gc_stats_t st;
    heron_gc_stats_get(&st);
    uint64_t cycles = st.cycles;
    double heap_area = 0, rss_area = 0;
    uint64_t last_heap = st.heap_in_use, last_rss = 0;
    int64_t t_first = -1, t_last = 0, t_prev = 0;
    uint32_t threads = 1;
    hn_trace_event ev = {0};
    int rc;
    uint64_t n = 0;
    int status = 0;
    while ((rc = hn_trace_next(r, &ev)) > 0) {
        if (t_first < 0)
            t_first = t_prev = (int64_t)ev.time_ns;
        t_last = (int64_t)ev.time_ns;
        if (ev.thread + 1 > threads)
            threads = ev.thread + 1;
        void *old = NULL;
        if (ev.kind == HN_EV_FREE || ev.kind == HN_EV_REALLOC) {
            uint64_t id = ev.kind == HN_EV_FREE ? ev.id : ev.old_id;
            hn_objmap_slot *s = hn_objmap_find(&roots.map, id + 1);
            if (!s) {
                snprintf(err, HN_REPORT_ERR_LEN, "%s: event %" PRIu64 ": object %" PRIu64
                         " is not live", trace, n, id);
                status = -1;
                break;
            }
            old = (void *)(uintptr_t)s->val;
            hn_objmap_remove_slot(&roots.map, s);
        }
        if (ev.kind != HN_EV_FREE) {
            void *p = heron_gc_malloc((size_t)ev.size);
            if (!p) {
                snprintf(err, HN_REPORT_ERR_LEN, "%s: event %" PRIu64 ": the collector "
                         "refused %" PRIu64 " bytes", trace, n, ev.size);
                status = -1;
                break;
            }
            if (old) {
                size_t keep = heron_gc_size(old);
                memcpy(p, old, keep < ev.size ? keep : (size_t)ev.size);
            }
            if (hn_objmap_insert(&roots.map, ev.id + 1, (uint64_t)(uintptr_t)p) < 0 ||
                roots_sync(&roots) != 0) {
                snprintf(err, HN_REPORT_ERR_LEN, "out of memory");
                status = -1;
                break;
            }
        }
        old = NULL;
        /* The collector's counters after every event: a cycle runs inside the
         * allocation that reaches the trigger, so the heap just before it is the heap
         * before this event plus this object. */
        heron_gc_stats_get(&st);
        if (st.cycles != cycles) {
            double before = (double)(last_heap + (ev.kind != HN_EV_FREE ? ev.size : 0));
            if (before > u->heap_peak)
                u->heap_peak = before;
            out->marked_sum += (double)st.heap_live * (double)(st.cycles - cycles);
            out->objects_sum += (double)roots.map.count * (double)(st.cycles - cycles);
            if (st.cycles == cycles + 1 && out->nsamples < HN_REPLAY_CYCLE_SAMPLES)
                out->samples[out->nsamples++] = (hn_replay_cycle_sample){
                    (double)st.pause_last_ns, (double)st.heap_live, (double)roots.map.count};
            out->spans_sum += (double)(st.heap_spans / HERON_PAGE_SIZE) *
                              (double)(st.cycles - cycles);
            u->live_mean += (double)st.heap_live * (double)(st.cycles - cycles);
            if ((double)st.heap_live > u->live_peak)
                u->live_peak = (double)st.heap_live;
            cycles = st.cycles;
        }
        double dt = (double)((int64_t)ev.time_ns - t_prev);
        heap_area += (double)last_heap * dt;
        rss_area += (double)last_rss * dt;
        t_prev = (int64_t)ev.time_ns;
        last_heap = st.heap_in_use;
        if ((double)last_heap > u->heap_peak)
            u->heap_peak = (double)last_heap;
        if (++n % GC_SAMPLE_EVERY == 0) {
            uint64_t rss = rss_bytes();
            last_rss = rss > rss0 ? rss - rss0 : 0;
            if ((double)last_rss > u->rss_peak)
                u->rss_peak = (double)last_rss;
        }
    }
    if (status == 0 && rc < 0) {
        snprintf(err, HN_REPORT_ERR_LEN, "%s", hn_trace_reader_error(r));
        status = -1;
    }
    hn_trace_reader_close(r);
    heron_gc_remove_root(roots.registered);
    hn_objmap_destroy(&roots.map);
    if (status < 0)
        return -1;
    heron_gc_stats_get(&st);
    u->cycles = (double)st.cycles;
    u->pauses = (double)st.cycles;
    u->pause_total_ns = (double)st.pause_total_ns;
    u->pause_max_ns = (double)st.pause_max_ns;
    u->events = (double)n;
    u->live_mean = st.cycles ? u->live_mean / (double)st.cycles : 0;
    int32_t p = procs > 0 ? procs : (int32_t)threads;
    double trace_ns = t_first >= 0 ? (double)(t_last - t_first) : 0;
    u->wall_ns = trace_ns + u->pause_total_ns;
    u->heap_mean = trace_ns > 0 ? heap_area / trace_ns : (double)st.heap_in_use;
    u->rss_mean = trace_ns > 0 ? rss_area / trace_ns : 0;
    /* The world is stopped for a pause: every processor's time is GC time, as the
     * simulation and Go count it. The collector's threads add their own CPU. */
    double sweeper = other_threads_cpu_ns() - other0;
    if (sweeper < 0)
        sweeper = 0;
    u->pause_cpu_ns = u->pause_total_ns * p;
    u->sweep_cpu_ns = sweeper;
    u->gc_cpu_ns = u->pause_cpu_ns + sweeper;
    u->total_cpu_ns = u->wall_ns * p;
    out->gc_cpu_ns = u->pause_total_ns + sweeper;
    return 0;
}

/* Runs hn_replay_gc_run in a child: 0, or 1 with the message printed. */
int hn_replay_gc_measure(const char *trace, int32_t gogc, int32_t procs,
                         hn_replay_gc_result *out)
{
    int fd;
    pid_t pid = hn_gcsim_fork_piped(&fd);
    if (pid < 0)
        return 1;
    if (pid == 0) {
        char err[HN_REPORT_ERR_LEN];
        hn_replay_gc_result res;
        int rc = hn_replay_gc_run(trace, gogc, procs, &res, err);
        if (rc < 0) {
            hn_gcsim_error("--replay=gc: %s", err);
            _exit(1);
        }
        ssize_t w = write(fd, &res, sizeof res);
        _exit(w == (ssize_t)sizeof res ? 0 : 1);
    }
    ssize_t got = 0;
    while (got < (ssize_t)sizeof *out) {
        ssize_t k = read(fd, (char *)out + got, sizeof *out - (size_t)got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += k;
    }
    close(fd);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(status)) {
        hn_gcsim_error("--replay=gc: the replay died of signal %d", WTERMSIG(status));
        return 1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got != (ssize_t)sizeof *out)
        return 1; /* the child printed why */
    return 0;
}

int hn_replay_gc(const char *trace, int32_t gogc, int32_t procs, hn_run *run)
{
    hn_replay_gc_result res;
    if (hn_replay_gc_measure(trace, gogc, procs, &res) != 0)
        return 1;
    memset(run, 0, sizeof *run);
    if (gogc < 0)
        snprintf(run->label, sizeof run->label, "gc GOGC=off");
    else
        snprintf(run->label, sizeof run->label, "gc GOGC=%" PRId32, gogc);
    snprintf(run->setting, sizeof run->setting, "replay on heron's collector, %s",
             run->label + 3);
    run->gogc = gogc;
    run->memory_limit = INT64_MAX;
    run->procs = procs;
    run->cpu_split = false;
    run->sum = res.sum;
    return 0;
}
