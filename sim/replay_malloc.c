/*
 * replay_malloc.c: `gcsim --replay=malloc --allocator=heron,jemalloc,... trace.bin`:
 * the trace's calls made for real on each allocator, for time and RSS over time.
 *
 * 1. For each allocator (in the order given), gcsim starts itself again
 *    (/proc/self/exe) as `gcsim replay-child NAME trace.bin` with the allocator's
 *    library in LD_PRELOAD (none for glibc), its stdout a pipe back to the parent.
 * 2. The child first proves the preload took effect: the allocator's marker symbol
 *    resolves (heron_version, mallctl, mi_version, tc_version) and `malloc` itself is
 *    defined by that library (dladdr); for glibc, `malloc` must come from libc. A
 *    failed check is an error, never a silent glibc measurement.
 * 3. It replays every event: malloc, calloc, realloc, aligned_alloc and free, keeping
 *    id -> pointer in a hash map that lives in mmap'd memory, not in the allocator
 *    measured. Each new block has one byte written per 4 KiB page, as a program that
 *    uses its memory would, so untouched memory is not counted as free RSS.
 * 4. It sends "b RSS" (gcsim's own RSS before the replay: the trace reader and the
 *    map, the same for every allocator up to the allocator's own start-up), then every
 *    16384 events an RSS sample (/proc/self/statm) "s EVENTS NS RSS", and at the end
 *    "r CPU_NS WALL_NS PEAK_RSS MINOR_FAULTS EVENTS".
 * The parent prints one column per allocator: replay time, CPU, peak, mean and final
 * RSS, RSS at each tenth of the trace, and minor faults; --csv writes the samples.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim/gcsim.h"
#include "sim/replay.h"
#include "sim/trace_read.h"
#include "sim/u64map.h"
#include "sim/units.h"

/* Events between RSS samples: reading statm costs a few microseconds, so sampling
 * stays under 1 % of the replay even at 100 ns per event. */
#define SAMPLE_EVERY 16384
#define MAX_ALLOCATORS 8
#define TOUCH_STRIDE 4096 /* write one byte per page of each new block */

struct allocator {
    const char *name;
    const char *lib;    /* path to preload; NULL for glibc; "" = next to gcsim */
    const char *marker; /* a symbol only that allocator defines */
};

static const struct allocator allocators[] = {
    {"heron", "", "heron_version"},
    {"jemalloc", "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "mallctl"},
    {"glibc", NULL, NULL},
    {"mimalloc", "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2", "mi_version"},
    {"tcmalloc", "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4", "tc_version"},
};
#define NALLOCATORS (sizeof allocators / sizeof allocators[0])

static const struct allocator *find_allocator(const char *name)
{
    for (size_t i = 0; i < NALLOCATORS; i++)
        if (strcmp(allocators[i].name, name) == 0)
            return &allocators[i];
    return NULL;
}

/* build/sim/gcsim -> build/alloc/libheron.so; installed: libheron.so by the loader. */
static int heron_lib_path(char *buf, size_t len)
{
    if (hn_gcsim_sibling(buf, len, "../alloc/libheron.so") == 0)
        return 0;
    snprintf(buf, len, "libheron.so");
    return 0;
}

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t rss_now(int fd)
{
    char buf[128];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    unsigned long long size, resident;
    if (sscanf(buf, "%llu %llu", &size, &resident) != 2)
        return 0;
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void touch(void *p, uint64_t size)
{
    volatile char *c = p;
    for (uint64_t off = 0; off < size; off += TOUCH_STRIDE)
        c[off] = 1;
}

/* The preload check, in the child. 0, or -1 with the reason printed. */
static int check_preload(const struct allocator *a)
{
    void *m = dlsym(RTLD_DEFAULT, "malloc");
    Dl_info info;
    if (!m || !dladdr(m, &info) || !info.dli_fname) {
        hn_gcsim_error("--allocator=%s: cannot tell which library defines malloc", a->name);
        return -1;
    }
    if (!a->lib) {
        for (size_t i = 0; i < NALLOCATORS; i++)
            if (allocators[i].marker && dlsym(RTLD_DEFAULT, allocators[i].marker) &&
                strcmp(allocators[i].name, "heron") != 0) {
                hn_gcsim_error("--allocator=glibc: %s is loaded (LD_PRELOAD set outside?)",
                               allocators[i].name);
                return -1;
            }
        if (!strstr(info.dli_fname, "libc.so")) {
            hn_gcsim_error("--allocator=glibc: malloc comes from %s, not libc",
                           info.dli_fname);
            return -1;
        }
        return 0;
    }
    if (!dlsym(RTLD_DEFAULT, a->marker)) {
        hn_gcsim_error("--allocator=%s: the preload did not take effect (no %s)", a->name,
                       a->marker);
        return -1;
    }
    const char *want = a->name[0] == 'h' ? "libheron" : a->lib;
    if (!strstr(info.dli_fname, want)) {
        hn_gcsim_error("--allocator=%s: malloc comes from %s, not the preloaded library",
                       a->name, info.dli_fname);
        return -1;
    }
    return 0;
}

int hn_cmd_replay_child(int argc, char **argv)
{
    if (argc != 3) {
        hn_gcsim_error("replay-child: expected ALLOCATOR TRACE");
        return 2;
    }
    const struct allocator *a = find_allocator(argv[1]);
    if (!a) {
        hn_gcsim_error("replay-child: unknown allocator '%s'", argv[1]);
        return 2;
    }
    if (check_preload(a) < 0)
        return 1;
    char err[HN_TRACE_ERR_LEN];
    hn_trace_reader *r = hn_trace_reader_open(argv[2], err);
    if (!r) {
        hn_gcsim_error("%s", err);
        return 1;
    }
    hn_u64map objs;
    if (hn_u64map_init(&objs) < 0) {
        hn_gcsim_error("out of memory");
        hn_trace_reader_close(r);
        return 1;
    }
    int statm = open("/proc/self/statm", O_RDONLY);
    printf("b %" PRIu64 "\n", rss_now(statm));
    int64_t cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID), wall0 = clock_ns(CLOCK_MONOTONIC);
    uint64_t peak = 0, n = 0;
    hn_trace_event ev = {0};
    int rc;
    int status = 0;
    while ((rc = hn_trace_next(r, &ev)) > 0) {
        void *old = NULL;
        if (ev.kind == HN_EV_FREE || ev.kind == HN_EV_REALLOC) {
            uint64_t id = ev.kind == HN_EV_FREE ? ev.id : ev.old_id;
            hn_u64map_slot *s = hn_u64map_find(&objs, id + 1);
            if (!s) {
                hn_gcsim_error("%s: event %" PRIu64 ": object %" PRIu64 " is not live",
                               argv[2], n, id);
                status = 1;
                break;
            }
            old = (void *)(uintptr_t)s->a;
            hn_u64map_remove_slot(&objs, s);
            if (ev.kind == HN_EV_FREE)
                free(old);
        }
        if (ev.kind != HN_EV_FREE) {
            void *p;
            size_t size = (size_t)ev.size;
            switch (ev.kind) {
            case HN_EV_CALLOC: p = calloc(1, size ? size : 1); break;
            case HN_EV_REALLOC: p = realloc(old, size ? size : 1); break;
            case HN_EV_ALIGNED: {
                size_t al = (size_t)1 << (ev.align_log2 < 4 ? 4 : ev.align_log2);
                p = NULL;
                if (posix_memalign(&p, al, size ? size : 1) != 0)
                    p = NULL;
                break;
            }
            default: p = malloc(size ? size : 1); break;
            }
            if (!p) {
                hn_gcsim_error("%s: event %" PRIu64 ": %s refused %zu bytes", argv[2], n,
                               a->name, size);
                status = 1;
                break;
            }
            if (ev.kind != HN_EV_REALLOC)
                touch(p, size);
            if (hn_u64map_insert(&objs, ev.id + 1, (uint64_t)(uintptr_t)p, 0) < 0) {
                hn_gcsim_error("out of memory");
                status = 1;
                break;
            }
        }
        if (++n % SAMPLE_EVERY == 0) {
            uint64_t rss = rss_now(statm);
            if (rss > peak)
                peak = rss;
            printf("s %" PRIu64 " %" PRId64 " %" PRIu64 "\n", n,
                   clock_ns(CLOCK_MONOTONIC) - wall0, rss);
        }
    }
    if (status == 0 && rc < 0) {
        hn_gcsim_error("%s", hn_trace_reader_error(r));
        status = 1;
    }
    if (status == 0) {
        int64_t wall = clock_ns(CLOCK_MONOTONIC) - wall0;
        int64_t cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
        uint64_t rss = rss_now(statm);
        if (rss > peak)
            peak = rss;
        printf("s %" PRIu64 " %" PRId64 " %" PRIu64 "\n", n, wall, rss);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("r %" PRId64 " %" PRId64 " %" PRIu64 " %ld %" PRIu64 "\n", cpu, wall, peak,
               ru.ru_minflt, n);
    }
    fflush(stdout);
    if (statm >= 0)
        close(statm);
    hn_trace_reader_close(r);
    return status;
}

struct result {
    const struct allocator *a;
    int64_t cpu, wall;
    uint64_t peak, events;
    long faults;
    double mean;
    uint64_t final;
    uint64_t base;         /* RSS of gcsim itself before the replay */
    uint64_t at[10];       /* RSS at each tenth of the events */
    hn_replay_sample *samples;
    size_t nsamples;
};

/* Runs one child; 0, or 1 (message printed, by the child or here). */
static int run_child(const char *trace, struct result *res)
{
    char lib[PATH_MAX] = "";
    if (res->a->lib && res->a->lib[0] == 0)
        heron_lib_path(lib, sizeof lib);
    else if (res->a->lib)
        snprintf(lib, sizeof lib, "%s", res->a->lib);
    if (lib[0] == '/' && access(lib, R_OK) != 0) {
        hn_gcsim_error("--allocator=%s: %s: %s", res->a->name, lib, strerror(errno));
        return 1;
    }
    int fd;
    pid_t pid = hn_gcsim_fork_piped(&fd);
    if (pid < 0)
        return 1;
    if (pid == 0) {
        dup2(fd, 1);
        close(fd);
        if (lib[0])
            setenv("LD_PRELOAD", lib, 1);
        else
            unsetenv("LD_PRELOAD");
        char *args[] = {"gcsim", "replay-child", (char *)res->a->name, (char *)trace, NULL};
        execv("/proc/self/exe", args);
        hn_gcsim_error("cannot run /proc/self/exe: %s", strerror(errno));
        _exit(1);
    }
    FILE *in = fdopen(fd, "r");
    char line[256];
    size_t cap = 0;
    bool got = false;
    while (in && fgets(line, sizeof line, in)) {
        hn_replay_sample s;
        if (sscanf(line, "s %" SCNu64 " %" SCNd64 " %" SCNu64, &s.events, &s.wall_ns,
                   &s.rss) == 3) {
            if (res->nsamples == cap) {
                cap = cap ? cap * 2 : 256;
                hn_replay_sample *ns = realloc(res->samples, cap * sizeof *ns);
                if (!ns)
                    break;
                res->samples = ns;
            }
            res->samples[res->nsamples++] = s;
        } else if (sscanf(line, "b %" SCNu64, &res->base) == 1) {
            continue;
        } else if (sscanf(line, "r %" SCNd64 " %" SCNd64 " %" SCNu64 " %ld %" SCNu64,
                          &res->cpu, &res->wall, &res->peak, &res->faults,
                          &res->events) == 5) {
            got = true;
        }
    }
    if (in)
        fclose(in);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !got) {
        if (WIFSIGNALED(status))
            hn_gcsim_error("--allocator=%s: the replay died of signal %d", res->a->name,
                           WTERMSIG(status));
        else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            hn_gcsim_error("--allocator=%s: the replay sent no result", res->a->name);
        return 1;
    }
    /* Mean RSS over time (samples are at equal event counts, weight by wall time). */
    double area = 0;
    int64_t last = 0;
    for (size_t i = 0; i < res->nsamples; i++) {
        area += (double)res->samples[i].rss * (double)(res->samples[i].wall_ns - last);
        last = res->samples[i].wall_ns;
    }
    res->mean = last > 0 ? area / (double)last : 0;
    res->final = res->nsamples ? res->samples[res->nsamples - 1].rss : 0;
    for (int k = 0; k < 10; k++) {
        uint64_t want = res->events * (uint64_t)(k + 1) / 10;
        for (size_t i = 0; i < res->nsamples; i++)
            if (res->samples[i].events >= want || i + 1 == res->nsamples) {
                res->at[k] = res->samples[i].rss;
                break;
            }
    }
    return 0;
}

int hn_replay_malloc(const char *trace, const char *list, const char *csv)
{
    struct result res[MAX_ALLOCATORS];
    size_t n = 0;
    char buf[256];
    if (strlen(list) >= sizeof buf) {
        hn_gcsim_error("--allocator=%s: too long", list);
        return 2;
    }
    strcpy(buf, list);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        const struct allocator *a = find_allocator(tok);
        if (!a) {
            hn_gcsim_error("--allocator=%s: unknown allocator '%s' (expected heron, "
                           "jemalloc, glibc, mimalloc or tcmalloc)", list, tok);
            return 2;
        }
        if (n == MAX_ALLOCATORS) {
            hn_gcsim_error("--allocator=%s: at most %d allocators", list, MAX_ALLOCATORS);
            return 2;
        }
        memset(&res[n], 0, sizeof res[n]);
        res[n++].a = a;
    }
    if (n == 0) {
        hn_gcsim_error("--allocator=%s: no allocator named", list);
        return 2;
    }
    /* A trace that cannot be read fails here, once, not in every child. */
    char err[HN_TRACE_ERR_LEN];
    hn_trace_reader *r = hn_trace_reader_open(trace, err);
    if (!r) {
        hn_gcsim_error("%s", err);
        return 1;
    }
    hn_trace_reader_close(r);

    int rc = 0;
    size_t done = 0;
    for (; done < n && rc == 0; done++)
        rc = run_child(trace, &res[done]);
    if (rc == 0) {
        char a[32];
        printf("gcsim: %s replayed on %zu allocator%s (%" PRIu64 " events; RSS from "
               "/proc/self/statm)\n",
               trace, n, n > 1 ? "s" : "", res[0].events);
        printf("%-22s", "");
        for (size_t i = 0; i < n; i++)
            printf("%14s", res[i].a->name);
        printf("\n%-22s", "wall time");
        for (size_t i = 0; i < n; i++)
            printf("%14s", hn_fmt_duration(a, sizeof a, (double)res[i].wall));
        printf("\n%-22s", "CPU time");
        for (size_t i = 0; i < n; i++)
            printf("%14s", hn_fmt_duration(a, sizeof a, (double)res[i].cpu));
        printf("\n%-22s", "ns per event");
        for (size_t i = 0; i < n; i++) {
            snprintf(a, sizeof a, "%.1f", (double)res[i].cpu / (double)res[i].events);
            printf("%14s", a);
        }
        printf("\n%-22s", "RSS peak");
        for (size_t i = 0; i < n; i++)
            printf("%14s", hn_fmt_size(a, sizeof a, (double)res[i].peak));
        printf("\n%-22s", "RSS mean");
        for (size_t i = 0; i < n; i++)
            printf("%14s", hn_fmt_size(a, sizeof a, res[i].mean));
        printf("\n%-22s", "RSS at end");
        for (size_t i = 0; i < n; i++)
            printf("%14s", hn_fmt_size(a, sizeof a, (double)res[i].final));
        printf("\n%-22s", "RSS before replay");
        for (size_t i = 0; i < n; i++)
            printf("%14s", hn_fmt_size(a, sizeof a, (double)res[i].base));
        printf("\n%-22s", "minor faults");
        for (size_t i = 0; i < n; i++)
            printf("%14ld", res[i].faults);
        printf("\nRSS over the trace:\n");
        for (int k = 0; k < 10; k++) {
            printf("  at %3d%% of events    ", (k + 1) * 10);
            for (size_t i = 0; i < n; i++)
                printf("%14s", hn_fmt_size(a, sizeof a, (double)res[i].at[k]));
            printf("\n");
        }
        if (csv) {
            FILE *f = strcmp(csv, "-") == 0 ? stdout : fopen(csv, "w");
            if (!f) {
                hn_gcsim_error("%s: %s", csv, strerror(errno));
                rc = 1;
            } else {
                fprintf(f, "allocator,events,t_s,rss\n");
                for (size_t i = 0; i < n; i++)
                    for (size_t k = 0; k < res[i].nsamples; k++)
                        fprintf(f, "%s,%" PRIu64 ",%.6f,%" PRIu64 "\n", res[i].a->name,
                                res[i].samples[k].events, res[i].samples[k].wall_ns / 1e9,
                                res[i].samples[k].rss);
                if ((f == stdout ? fflush(f) : fclose(f)) != 0) {
                    hn_gcsim_error("%s: write failed", csv);
                    rc = 1;
                }
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        free(res[i].samples);
    return rc;
}
