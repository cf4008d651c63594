/*
 * calibrate.c: `gcsim calibrate`: measure the cost model's constants on this machine by
 * running heron's real (concurrent) collector on generated heaps, and save them where
 * every later simulation finds them.
 *
 * 1. Heaps: steady-state traces from `gcsim gen steady` (run as /proc/self/exe) with
 *    live heaps of 1, 4, 16 and 48 MiB in small objects (median 64 B), of 4, 16 and
 *    48 MiB in medium ones (median 1 KiB), of 4 and 16 MiB in large ones (median
 *    32 KiB), and of 4 MiB in objects of one size, each knot's (costmodel.h), each
 *    replayed at GOGC 50 and 200: 34 runs whose cycles, objects by size, streamed bytes
 *    (past each object's first KiB) and pages vary independently enough to separate the
 *    costs. The 1 MiB heap marks in the cache, as a program's first cycles do while its
 *    heap grows. The one-size heaps pin each knot: fitted to the mixes alone, the knots
 *    under 64 bytes are the same few objects' cost divided among them.
 * 2. Each run is `--replay=gc` (replay_gc.c) in a child process, twice: every run once,
 *    then every run again (a slow minute of a shared machine falls on one of a run's two
 *    replays, not both), the first pass in an order that mixes the heaps' kinds and the
 *    second in the reverse order. This VM's speed drifts by a third within half a
 *    minute; run kind by kind, one calibration had marked its small-object heaps (run
 *    first) in 40 % less time than the one before it and its others in the same, and
 *    fitted a third of the cost an object. Per cycle a replay reports the marking CPU
 *    (the background worker's and the assists', from the collector's own counters), the
 *    bytes and objects the program held when the mark began (what it scans; later
 *    objects are allocated black), and the wall time of the cycle's pauses (two, one
 *    more per mark resume); per run, the sweeper's CPU (replay_gc.c: the sweeper
 *    thread's, not the scavenger's) and the spans in use summed over the cycles.
 * 3. Fits, over every cycle of both replays of each run (the model answers for a
 *    typical run; the faster replay of each pair had priced marking up to a tenth
 *    low, sim/tools/pair_spread.sh):
 *      mark CPU = sum over the knots k of mark_ns_at[k] * objects at k
 *               + mark_ns_per_streamed_byte * streamed bytes
 *               + mark_ns_per_object_uncached * miss * objects
 *               + mark_ns_per_page * pages holding an object
 *    (objects at k: each object held split between the two knots around its size;
 *    miss: the share of the live pages' bytes past cache_bytes; costmodel.h) by
 *    non-negative least squares for each cache size tried, keeping the one with the
 *    least residual; then again without the cycles four times the median residual off
 *    (a neighbour's process took the CPU). A coefficient the data would make negative
 *    is 0 and the others refitted (a negative cost is noise). GOGC 50 and 200 put the
 *    same live objects on about twice as many pages at 200, which tells pages from
 *    objects.
 *      pause_ns = the mean over the cycles of their pauses together, without the
 *    longest PAUSE_TRIM (stopping and restarting the world, the roots, the barrier
 *    buffers: a fixed cost here; a mean, since GC CPU is their sum, but not of the
 *    pauses a neighbour's process preempted, which on a loaded machine made the mean
 *    5x the median); and over the runs (the mean of each pair):
 *      sweeper CPU = sweep_ns_per_span * spans
 *    (spans, not their pages, which the model counts: docs/gcsim.md "The cost model"
 *    has the fits both ways).
 * 4. Prints the fit and each run's measured and fitted costs, and writes the file
 *    (costmodel.h, version HN_COST_FILE_VERSION), unless --dry-run; --cycles=FILE
 *    writes every replay's cycles with the fit's cost of each (hn_replay_cycles_write).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim/costmodel.h"
#include "sim/gcsim.h"
#include "sim/replay.h"

struct heap_kind {
    const char *live;
    const char *sizes;
};

/* Live sizes spread over a factor of 48 and object sizes a factor of 16 apart, so bytes
 * marked and span counts are not proportional to each other or to cycles. */
static const struct heap_kind heaps[] = {
    {"1MiB", "lognormal:64:1"},    {"4MiB", "lognormal:64:1"},
    {"16MiB", "lognormal:64:1"},   {"48MiB", "lognormal:64:1"},
    {"4MiB", "lognormal:1024:1"},  {"16MiB", "lognormal:1024:1"},
    {"48MiB", "lognormal:1024:1"}, {"4MiB", "lognormal:32768:1"},
    {"16MiB", "lognormal:32768:1"},
    /* One heap at each knot's size (costmodel.h): its cost, not the line through a mix. */
    {"4MiB", "fixed:16"},          {"4MiB", "fixed:32"},
    {"4MiB", "fixed:48"},          {"4MiB", "fixed:64"},
    {"4MiB", "fixed:128"},         {"4MiB", "fixed:256"},
    {"4MiB", "fixed:512"},         {"4MiB", "fixed:1024"},
};
static const int32_t gogcs[] = {50, 200};
#define NHEAPS (sizeof heaps / sizeof heaps[0])
#define NGOGC (sizeof gogcs / sizeof gogcs[0])
#define NRUNS (NHEAPS * NGOGC)
#define REPEATS 2
/* The share of cycles with the longest pauses left out of the pause cost: preempted. */
#define PAUSE_TRIM 0.05

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The runs' order in a pass: k * stride mod NRUNS, a stride prime to NRUNS near a third
 * of it, so each stretch of a third of the pass holds every kind of heap (step 2). */
static size_t run_stride(void)
{
    size_t s = NRUNS / 3 + 1;
    for (;; s++) {
        size_t a = s, b = NRUNS;
        while (b) {
            size_t t = a % b;
            a = b;
            b = t;
        }
        if (a == 1)
            return s;
    }
}

/* Runs `gcsim gen steady` for one heap: 0, or the exit status with the error printed
 * (gen's own for a bad --rate, which it exits 2 on). */
static int generate(const struct heap_kind *h, const char *rate, const char *path)
{
    char live[64], sizes[64], rt[64], out[4300];
    snprintf(live, sizeof live, "--live=%s", h->live);
    snprintf(sizes, sizeof sizes, "--sizes=%s", h->sizes);
    snprintf(rt, sizeof rt, "--rate=%s", rate);
    snprintf(out, sizeof out, "%s", path);
    char *args[] = {"gcsim", "gen", "steady", "-o", out, live, sizes, rt, "--duration=1s",
                    "--seed=3", NULL};
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        hn_gcsim_error("fork: %s", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        int null = open("/dev/null", 1);
        if (null >= 0)
            dup2(null, 1);
        execv("/proc/self/exe", args);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status) && (WEXITSTATUS(status) == 1 || WEXITSTATUS(status) == 2))
        return WEXITSTATUS(status);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        hn_gcsim_error("calibrate: `gcsim gen steady %s %s` failed", live, sizes);
        return 1;
    }
    return 0;
}

/* The fit's columns (step 3): objects at each knot, streamed bytes, objects times the
 * share of the live pages past the cache (for the cache size being tried), and pages
 * holding an object. */
#define COL_STREAMED HN_COST_KNOTS
#define COL_UNCACHED (HN_COST_KNOTS + 1)
#define COL_PAGES (HN_COST_KNOTS + 2)
#define NCOEF (HN_COST_KNOTS + 3)
#define MAXS (NRUNS * REPEATS * HN_REPLAY_CYCLE_SAMPLES)

/* The normal equations of a least-squares fit y ~ sum_j c[j] * x[j], with the columns
 * scaled to unit length (their units differ by orders of magnitude: objects, bytes). */
struct normal {
    double g[NCOEF][NCOEF]; /* the scaled columns' products */
    double b[NCOEF];        /* each scaled column's product with y */
    double yy;              /* y's with itself */
    double scale[NCOEF];    /* each column's length (0: all zero) */
};

static void normal_from(struct normal *ne, double x[NCOEF][MAXS], const double *y, size_t n)
{
    memset(ne, 0, sizeof *ne);
    for (int j = 0; j < NCOEF; j++) {
        double ss = 0;
        for (size_t i = 0; i < n; i++)
            ss += x[j][i] * x[j][i];
        ne->scale[j] = sqrt(ss);
    }
    for (int r = 0; r < NCOEF; r++) {
        double sr = ne->scale[r] > 0 ? ne->scale[r] : 1;
        for (int q = r; q < NCOEF; q++) {
            double sq = ne->scale[q] > 0 ? ne->scale[q] : 1, t = 0;
            for (size_t i = 0; i < n; i++)
                t += x[r][i] * x[q][i];
            ne->g[r][q] = ne->g[q][r] = t / (sr * sq);
        }
        double t = 0;
        for (size_t i = 0; i < n; i++)
            t += x[r][i] * y[i];
        ne->b[r] = t / sr;
    }
    for (size_t i = 0; i < n; i++)
        ne->yy += y[i] * y[i];
}

/* Least squares over the columns in `use` (a bit mask) by Gaussian elimination of the
 * normal equations: the residual sum of squares, and the coefficients in c (0 outside
 * `use`, in the columns' own units), or INFINITY when the system is singular. */
static double lsq(const struct normal *ne, unsigned use, double *c)
{
    int idx[NCOEF], k = 0;
    for (int j = 0; j < NCOEF; j++)
        if ((use & (1u << j)) && ne->scale[j] > 0)
            idx[k++] = j;
    if (k == 0)
        return INFINITY;
    double a[NCOEF][NCOEF + 1];
    for (int r = 0; r < k; r++) {
        for (int q = 0; q < k; q++)
            a[r][q] = ne->g[idx[r]][idx[q]];
        a[r][k] = ne->b[idx[r]];
    }
    for (int p = 0; p < k; p++) {
        int best = p;
        for (int r = p + 1; r < k; r++)
            if (fabs(a[r][p]) > fabs(a[best][p]))
                best = r;
        if (fabs(a[best][p]) < 1e-12)
            return INFINITY;
        for (int q = 0; q <= k; q++) {
            double t = a[p][q];
            a[p][q] = a[best][q];
            a[best][q] = t;
        }
        for (int r = 0; r < k; r++) {
            if (r == p)
                continue;
            double f = a[r][p] / a[p][p];
            for (int q = p; q <= k; q++)
                a[r][q] -= f * a[p][q];
        }
    }
    double u[NCOEF] = {0}; /* the scaled coefficients */
    for (int r = 0; r < k; r++)
        u[idx[r]] = a[r][k] / a[r][r];
    /* |y - Xu|^2 = y.y - 2 u.b + u.G.u */
    double ss = ne->yy;
    for (int r = 0; r < NCOEF; r++) {
        ss -= 2 * u[r] * ne->b[r];
        for (int q = 0; q < NCOEF; q++)
            ss += u[r] * ne->g[r][q] * u[q];
    }
    for (int j = 0; j < NCOEF; j++)
        c[j] = ne->scale[j] > 0 ? u[j] / ne->scale[j] : 0;
    return ss > 0 ? ss : 0;
}

/* The best fit with every coefficient >= 0: each subset of the columns is tried and
 * the feasible one with the least residual kept (2^NCOEF - 1 small systems). */
static double fit_nonneg(double x[NCOEF][MAXS], const double *y, size_t n, double *c)
{
    static struct normal ne;
    normal_from(&ne, x, y, n);
    double best = INFINITY;
    for (int j = 0; j < NCOEF; j++)
        c[j] = 0;
    for (unsigned use = 1; use < (1u << NCOEF); use++) {
        double t[NCOEF];
        double ss = lsq(&ne, use, t);
        bool ok = ss < best;
        for (int j = 0; j < NCOEF && ok; j++)
            ok = t[j] >= 0;
        if (ok) {
            best = ss;
            memcpy(c, t, sizeof t);
        }
    }
    return best;
}

/* Cache sizes tried for the per-object cost's cache term; the one whose fit leaves the
 * least residual is kept. */
static const double cache_sizes[] = {1 << 20, 2 << 20, 4 << 20, 8 << 20, 16 << 20, 32 << 20,
                                     64 << 20};
#define NCACHE (sizeof cache_sizes / sizeof cache_sizes[0])

/* The columns of the scans idx[0..n) for cache size `cache`. */
static void fill_columns(double x[NCOEF][MAXS], const hn_cost_scan *scans, const size_t *idx,
                         size_t n, double cache)
{
    for (size_t i = 0; i < n; i++) {
        const hn_cost_scan *sc = &scans[idx[i]];
        for (int k = 0; k < HN_COST_KNOTS; k++)
            x[k][i] = sc->at[k];
        x[COL_STREAMED][i] = sc->streamed;
        x[COL_UNCACHED][i] = sc->objects * hn_cost_uncached(1, cache,
                                                            sc->pages * HN_COST_PAGE_BYTES);
        x[COL_PAGES][i] = sc->pages;
    }
}

/* The best fit of the marking CPU y[idx[i]] over the cache sizes: its coefficients in
 * coef, its residual sum of squares returned, its cache size in *cache. */
static double fit_with_cache(const hn_cost_scan *scans, const double *y, const size_t *idx,
                             size_t n, double *coef, double *cache)
{
    static double x[NCOEF][MAXS], yk[MAXS];
    for (size_t i = 0; i < n; i++)
        yk[i] = y[idx[i]];
    double best = INFINITY;
    *cache = cache_sizes[0];
    for (size_t k = 0; k < NCACHE; k++) {
        double t[NCOEF];
        fill_columns(x, scans, idx, n, cache_sizes[k]);
        double ss = fit_nonneg(x, yk, n, t);
        if (ss < best) {
            best = ss;
            *cache = cache_sizes[k];
            memcpy(coef, t, sizeof t);
        }
    }
    return best;
}

/* The cost model of fit coefficients coef and cache size `cache` (pause and sweep
 * costs as they are in c). */
static void cost_from_fit(hn_cost *c, const double *coef, double cache)
{
    for (int k = 0; k < HN_COST_KNOTS; k++)
        c->mark_ns_at[k] = coef[k];
    c->mark_ns_per_streamed_byte = coef[COL_STREAMED];
    c->mark_ns_per_object_uncached = coef[COL_UNCACHED];
    c->cache_bytes = coef[COL_UNCACHED] > 0 ? cache : 0;
    c->mark_ns_per_page = coef[COL_PAGES];
}

int hn_cmd_calibrate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"dry-run", no_argument, NULL, 'n'},
        {"rate", required_argument, NULL, 'r'},
        {"cycles", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *output = NULL;
    const char *rate = "128MiB/s";
    const char *cycles_path = NULL;
    bool dry = false;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:nh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case 'n': dry = true; break;
        case 'r': rate = optarg; break;
        case 'c': cycles_path = optarg; break;
        case 'h':
            printf("usage: gcsim calibrate [--output=FILE] [--dry-run] [--rate=RATE]\n"
                   "                       [--cycles=FILE]\n"
                   "Measures the cost model (pause, mark and sweep costs) on this machine\n"
                   "with heron's collector and saves it to FILE (default:\n"
                   "$XDG_CONFIG_HOME/heron/gcsim-calibration). Takes about two minutes:\n"
                   "the replays run on the generated traces' time line (1 s each).\n"
                   "  --rate=RATE   allocation rate of the generated heaps (default "
                   "128MiB/s)\n"
                   "  --cycles=FILE every replay's marking cycle by cycle (CPU, bytes,\n"
                   "                objects, pages held; the fit's CPU for them), CSV\n");
            return 0;
        case ':':
            hn_gcsim_error("calibrate: option %s needs a value", argv[optind - 1]);
            return 2;
        default:
            hn_gcsim_error("calibrate: unknown option '%s'", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        hn_gcsim_error("calibrate: unexpected argument '%s'", argv[optind]);
        return 2;
    }
    char path[4096];
    if (output)
        snprintf(path, sizeof path, "%s", output);
    else if (!dry && hn_cost_path(path, sizeof path) < 0) {
        hn_gcsim_error("calibrate: neither XDG_CONFIG_HOME nor HOME is set; use --output");
        return 2;
    }

    /* mkdtemp's template: the prefix, then six letters it replaces. */
    char dir[64] = "/tmp/gcsim-calibrate-";
    size_t plen = strlen(dir);
    memset(dir + plen, 'X', 6);
    dir[plen + 6] = 0;
    if (!mkdtemp(dir)) {
        hn_gcsim_error("calibrate: %s: %s", dir, strerror(errno));
        return 1;
    }
    /* Every trace first, then REPEATS passes over the runs: a run's repeats lie a pass
     * apart, so a minute in which the machine marks slowly (a neighbour's process
     * sharing its caches) slows one of them, not the run's whole pair. */
    int rc = 0;
    char traces[NHEAPS][128] = {{0}}; /* dir (64 bytes) and a file name */
    for (size_t h = 0; h < NHEAPS && rc == 0; h++) {
        snprintf(traces[h], sizeof traces[h], "%s/heap%zu.trace", dir, h);
        rc = generate(&heaps[h], rate, traces[h]);
    }
    hn_replay_gc_result(*results)[REPEATS] = rc ? NULL : calloc(NRUNS, sizeof *results);
    if (!rc && !results) {
        hn_gcsim_error("calibrate: out of memory");
        rc = 1;
    }
    FILE *cyc = NULL;
    if (!rc && cycles_path && !(cyc = fopen(cycles_path, "w"))) {
        hn_gcsim_error("calibrate: --cycles=%s: %s", cycles_path, strerror(errno));
        rc = 1;
    }
    if (cyc)
        hn_replay_cycles_header(cyc);
    size_t stride = run_stride();
    for (int rep = 0; rep < REPEATS && rc == 0; rep++)
        for (size_t k = 0; k < NRUNS && rc == 0; k++) {
            size_t i = (rep % 2 ? NRUNS - 1 - k : k) * stride % NRUNS;
            const struct heap_kind *h = &heaps[i / NGOGC];
            int32_t gogc = gogcs[i % NGOGC];
            fprintf(stderr, "gcsim calibrate: live %s, sizes %s, GOGC=%d, run %d...\n",
                    h->live, h->sizes, gogc, rep + 1);
            if (hn_replay_gc_measure(traces[i / NGOGC], gogc, INT64_MAX, 1,
                                     &results[i][rep]) != 0) {
                rc = 1;
                break;
            }
        }
    for (size_t h = 0; h < NHEAPS; h++)
        if (traces[h][0])
            unlink(traces[h]); /* generated, or begun */
    /* Per run, the mean of its replays' sweeping and spans. */
    double spans[NRUNS], sweep[NRUNS];
    /* Per cycle of every replay: what its mark scanned; its mark CPU; its pauses; and
     * each run's cycles among them. */
    static hn_cost_scan scans[MAXS];
    static double sy[MAXS], sp[MAXS];
    static size_t idx[MAXS]; /* the cycles the fit takes */
    size_t run_first[NRUNS], run_end[NRUNS];
    size_t ns = 0;
    size_t n = 0;
    for (; n < NRUNS && rc == 0; n++) {
        spans[n] = sweep[n] = 0;
        run_first[n] = ns;
        /* Both replays' cycles, not the faster one's: the model answers for a typical
         * run, and the lesser of two replays that differed by a median fifth in one
         * calibration priced marking a tenth under their mean. A preempted cycle is
         * still left out by the fit's residual cut. */
        for (int rep = 0; rep < REPEATS; rep++) {
            const hn_replay_gc_result *res = &results[n][rep];
            sweep[n] += res->sum.sweep_cpu_ns / REPEATS;
            spans[n] += res->spans_sum / REPEATS;
            for (uint32_t k = 0; k < res->nsamples && ns < MAXS; k++, ns++) {
                const hn_replay_cycle_sample *cy = &res->samples[k];
                scans[ns] = cy->scan;
                sy[ns] = cy->mark_cpu_ns;
                sp[ns] = cy->pause_ns;
            }
        }
        run_end[n] = ns;
    }
    rmdir(dir);
    if (rc == 0 && ns < 2 * NCOEF) {
        hn_gcsim_error("calibrate: only %zu cycles measured; a higher --rate gives more", ns);
        rc = 1;
    }
    if (rc) {
        free(results);
        if (cyc)
            fclose(cyc);
        return rc;
    }

    hn_cost cost;
    hn_cost_defaults(&cost);
    /* Pauses: a cycle's pauses together, on average, the longest left out. */
    double *sorted = malloc(ns * sizeof *sorted);
    double *res = malloc(ns * sizeof *res);
    if (!sorted || !res) {
        free(sorted);
        free(res);
        free(results);
        if (cyc)
            fclose(cyc);
        hn_gcsim_error("calibrate: out of memory");
        return 1;
    }
    memcpy(sorted, sp, ns * sizeof *sorted);
    qsort(sorted, ns, sizeof *sorted, cmp_double);
    size_t np = ns - (size_t)((double)ns * PAUSE_TRIM);
    cost.pause_ns = 0;
    for (size_t i = 0; i < np; i++)
        cost.pause_ns += sorted[i] / (double)np;
    /* Marking: every cycle's CPU; then once more without the cycles more than four
     * times the median residual off. */
    double coef[NCOEF], cache;
    for (size_t i = 0; i < ns; i++)
        idx[i] = i;
    fit_with_cache(scans, sy, idx, ns, coef, &cache);
    cost_from_fit(&cost, coef, cache);
    for (size_t i = 0; i < ns; i++)
        res[i] = fabs(sy[i] - hn_cost_mark_ns(&cost, &scans[i]));
    memcpy(sorted, res, ns * sizeof *sorted);
    qsort(sorted, ns, sizeof *sorted, cmp_double);
    double cut = 4 * sorted[ns / 2];
    size_t kept = 0;
    for (size_t i = 0; i < ns; i++) {
        if (res[i] <= cut)
            idx[kept++] = i;
    }
    fprintf(stderr, "gcsim calibrate: %zu cycles, %zu kept for the mark fit\n", ns, kept);
    free(sorted);
    free(res);
    fit_with_cache(scans, sy, idx, kept, coef, &cache);
    cost_from_fit(&cost, coef, cache);
    double r2_ss = 0, r2_st = 0, r2_mean = 0;
    for (size_t i = 0; i < kept; i++)
        r2_mean += sy[idx[i]] / (double)kept;
    for (size_t i = 0; i < kept; i++) {
        double f = hn_cost_mark_ns(&cost, &scans[idx[i]]);
        r2_ss += (sy[idx[i]] - f) * (sy[idx[i]] - f);
        r2_st += (sy[idx[i]] - r2_mean) * (sy[idx[i]] - r2_mean);
    }
    double sxy = 0, sxx = 0;
    for (size_t i = 0; i < n; i++) {
        sxy += spans[i] * sweep[i];
        sxx += spans[i] * spans[i];
    }
    cost.sweep_ns_per_span = sxx > 0 ? sxy / sxx : 0;
    /* Every replay's cycles, with what the fit says each cost. */
    for (int rep = 0; cyc && rep < REPEATS; rep++)
        for (size_t i = 0; i < NRUNS; i++) {
            const struct heap_kind *h = &heaps[i / NGOGC];
            char name[128];
            snprintf(name, sizeof name, "live %s sizes %s GOGC=%d run %d", h->live, h->sizes,
                     gogcs[i % NGOGC], rep + 1);
            hn_replay_cycles_write(cyc, name, &results[i][rep], &cost);
        }
    free(results);
    if (cyc && (ferror(cyc) | fclose(cyc))) {
        hn_gcsim_error("calibrate: --cycles=%s: write failed", cycles_path);
        return 1;
    }

    printf("%-6s %-18s %5s %7s %12s %9s %9s %9s %9s %9s %9s %9s %9s\n", "live", "sizes",
           "GOGC", "cycles", "scanned MiB", "objects", "mark ms", "fit ms", "pause ms",
           "fit ms", "sweep ms", "fit ms", "obj/page");
    for (size_t i = 0; i < n; i++) {
        /* The run's cycles, both replays', over REPEATS: the mean replay's. */
        double cycles = 0, scanned = 0, objects = 0, pages = 0, mark = 0, pause = 0, fm = 0;
        for (size_t k = run_first[i]; k < run_end[i]; k++) {
            cycles += 1.0 / REPEATS;
            scanned += scans[k].bytes / REPEATS;
            objects += scans[k].objects / REPEATS;
            pages += scans[k].pages / REPEATS;
            mark += sy[k] / REPEATS;
            pause += sp[k] / REPEATS;
            fm += hn_cost_mark_ns(&cost, &scans[k]) / REPEATS;
        }
        double fs = cost.sweep_ns_per_span * spans[i];
        printf("%-6s %-18s %5d %7.0f %12.1f %8.2fM %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.1f\n",
               heaps[i / NGOGC].live, heaps[i / NGOGC].sizes, gogcs[i % NGOGC], cycles,
               scanned / 1048576, objects / 1e6, mark / 1e6, fm / 1e6, pause / 1e6,
               cost.pause_ns * cycles / 1e6, sweep[i] / 1e6, fs / 1e6,
               pages > 0 ? objects / pages : 0);
    }
    printf("fit: pause_ns %.1f,", cost.pause_ns);
    for (int k = 0; k < HN_COST_KNOTS; k++)
        printf(" mark_ns_at_%.0f %.2f,", hn_cost_knot_bytes[k], cost.mark_ns_at[k]);
    printf(" mark_ns_per_streamed_byte %.4f, mark_ns_per_object_uncached %.2f, "
           "cache_bytes %.0f, mark_ns_per_page %.1f, sweep_ns_per_span %.2f "
           "(per-cycle mark fit R^2 %.3f)\n",
           cost.mark_ns_per_streamed_byte, cost.mark_ns_per_object_uncached, cost.cache_bytes,
           cost.mark_ns_per_page, cost.sweep_ns_per_span, r2_st > 0 ? 1 - r2_ss / r2_st : 1);
    if (dry)
        return 0;
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    char comment[512];
    snprintf(comment, sizeof comment,
             "gcsim calibration, written by `gcsim calibrate` on %s at %s", host, when);
    char err[HN_COST_ERR_LEN];
    if (hn_cost_save(&cost, path, comment, err) < 0) {
        hn_gcsim_error("calibrate: %s", err);
        return 1;
    }
    printf("saved to %s\n", path);
    return 0;
}
