/*
 * calibrate.c: `gcsim calibrate`: measure the cost model's constants on this machine by
 * running heron's real collector on generated heaps, and save them where every later
 * simulation finds them.
 *
 * 1. Heaps: steady-state traces from `gcsim gen steady` (run as /proc/self/exe) with
 *    live heaps of 4, 16 and 48 MiB in small (median 64 B) and large (median 1 KiB)
 *    objects, each replayed at GOGC 50 and 200: twelve runs whose cycles, bytes marked
 *    and spans vary independently enough to separate the three costs.
 * 2. Each run is `--replay=gc` (replay_gc.c) in a child process. It reports the total
 *    pause time, the collector threads' CPU (the sweeper's), the cycles, and the bytes
 *    marked and span pages in use summed over the cycles.
 * 3. Fits, by least squares over every cycle of the faster of each configuration's two
 *    runs (a few hundred points; the
 *    fixed, per-byte and per-object terms are not proportional to each other across
 *    cycles of different heaps, as run totals nearly were):
 *      a cycle's pause = pause_ns + mark_ns_per_byte * bytes marked
 *                        + mark_ns_per_object * objects
 *    then again without the cycles four times the median residual off (preempted by a
 *    neighbour); and over the runs (the least of two each):
 *      sweeper CPU = sweep_ns_per_span * span pages
 *    (the stop-the-world collector marks inside its pause; it sweeps on its own
 *    thread). A coefficient the data would make negative is set to 0 and the other
 *    refitted: a negative cost is noise, not a saving.
 * 4. Prints the fit and each run's measured and fitted time, and writes the file
 *    (costmodel.h), unless --dry-run.
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

/* Live sizes spread over a factor of 12 and two object sizes a factor of 16 apart, so
 * bytes marked and span counts are not proportional to each other or to cycles. */
static const struct heap_kind heaps[] = {
    {"4MiB", "lognormal:64:1"},  {"16MiB", "lognormal:64:1"},  {"48MiB", "lognormal:64:1"},
    {"4MiB", "lognormal:1024:1"}, {"16MiB", "lognormal:1024:1"}, {"48MiB", "lognormal:1024:1"},
};
static const int32_t gogcs[] = {50, 200};
#define NHEAPS (sizeof heaps / sizeof heaps[0])
#define NGOGC (sizeof gogcs / sizeof gogcs[0])
#define NRUNS (NHEAPS * NGOGC)
#define REPEATS 2

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Runs `gcsim gen steady` for one heap: 0, or -1 (message printed). */
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
        return -1;
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
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        hn_gcsim_error("calibrate: `gcsim gen steady %s %s` failed", live, sizes);
        return -1;
    }
    return 0;
}

/* Least squares y ~ sum_j c[j] * x[j][i] over the columns in `use` (a bit mask), by the
 * normal equations and Gaussian elimination. Returns the residual sum of squares, or
 * INFINITY when the system is singular. */
#define NCOEF 3
#define MAXS (NRUNS * REPEATS * HN_REPLAY_CYCLE_SAMPLES)
static double lsq(double x[NCOEF][MAXS], const double *y, size_t n, unsigned use, double *c)
{
    int idx[NCOEF], k = 0;
    for (int j = 0; j < NCOEF; j++)
        if (use & (1u << j))
            idx[k++] = j;
    double a[NCOEF][NCOEF + 1] = {{0}};
    for (int r = 0; r < k; r++) {
        for (int q = 0; q < k; q++)
            for (size_t i = 0; i < n; i++)
                a[r][q] += x[idx[r]][i] * x[idx[q]][i];
        for (size_t i = 0; i < n; i++)
            a[r][k] += x[idx[r]][i] * y[i];
    }
    for (int p = 0; p < k; p++) {
        int best = p;
        for (int r = p + 1; r < k; r++)
            if (fabs(a[r][p]) > fabs(a[best][p]))
                best = r;
        if (fabs(a[best][p]) < 1e-300)
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
    for (int j = 0; j < NCOEF; j++)
        c[j] = 0;
    for (int r = 0; r < k; r++)
        c[idx[r]] = a[r][k] / a[r][r];
    double ss = 0;
    for (size_t i = 0; i < n; i++) {
        double f = 0;
        for (int j = 0; j < NCOEF; j++)
            f += c[j] * x[j][i];
        ss += (y[i] - f) * (y[i] - f);
    }
    return ss;
}

/* The best fit with every coefficient >= 0: each subset of the columns is tried and
 * the feasible one with the least residual kept (2^3 - 1 small systems). */
static void fit_nonneg(double x[NCOEF][MAXS], const double *y, size_t n, double *c)
{
    double best = INFINITY;
    for (int j = 0; j < NCOEF; j++)
        c[j] = 0;
    for (unsigned use = 1; use < (1u << NCOEF); use++) {
        double t[NCOEF];
        double ss = lsq(x, y, n, use, t);
        bool ok = ss < best;
        for (int j = 0; j < NCOEF && ok; j++)
            ok = t[j] >= 0;
        if (ok) {
            best = ss;
            memcpy(c, t, sizeof t);
        }
    }
}

int hn_cmd_calibrate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"dry-run", no_argument, NULL, 'n'},
        {"rate", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *output = NULL;
    const char *rate = "128MiB/s";
    bool dry = false;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:nh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case 'n': dry = true; break;
        case 'r': rate = optarg; break;
        case 'h':
            printf("usage: gcsim calibrate [--output=FILE] [--dry-run] [--rate=RATE]\n"
                   "Measures the cost model (pause, mark and sweep costs) on this machine\n"
                   "with heron's collector and saves it to FILE (default:\n"
                   "$XDG_CONFIG_HOME/heron/gcsim-calibration). Takes about a minute.\n"
                   "  --rate=RATE   allocation rate of the generated heaps (default "
                   "128MiB/s)\n");
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
    double x[NCOEF][NRUNS]; /* per run: cycles, bytes marked, objects */
    double spans[NRUNS], pause[NRUNS], sweep[NRUNS];
    /* Per cycle: 1, bytes marked, objects; and the pause. */
    static double sx[NCOEF][MAXS], sy[MAXS];
    size_t ns = 0;
    size_t n = 0;
    int rc = 0;
    for (size_t h = 0; h < NHEAPS && rc == 0; h++) {
        char trace[4200];
        snprintf(trace, sizeof trace, "%s/heap%zu.trace", dir, h);
        if (generate(&heaps[h], rate, trace) < 0) {
            rc = 1;
            break;
        }
        for (size_t g = 0; g < NGOGC && rc == 0; g++) {
            /* The least of REPEATS runs: on a shared machine, interference only ever
             * adds time. */
            pause[n] = sweep[n] = INFINITY;
            size_t first = ns; /* this configuration's cycles start here */
            for (int rep = 0; rep < REPEATS && rc == 0; rep++) {
                hn_replay_gc_result res;
                fprintf(stderr, "gcsim calibrate: live %s, sizes %s, GOGC=%d, run %d...\n",
                        heaps[h].live, heaps[h].sizes, gogcs[g], rep + 1);
                if (hn_replay_gc_measure(trace, gogcs[g], INT64_MAX, 1, &res) != 0) {
                    rc = 1;
                    break;
                }
                x[0][n] = res.sum.cycles;
                x[1][n] = res.marked_sum;
                x[2][n] = res.objects_sum;
                spans[n] = res.spans_sum;
                if (res.sum.sweep_cpu_ns < sweep[n])
                    sweep[n] = res.sum.sweep_cpu_ns;
                if (res.sum.pause_total_ns >= pause[n])
                    continue;
                /* The faster run's cycles replace the slower one's: interference only
                 * ever lengthens a pause. */
                pause[n] = res.sum.pause_total_ns;
                ns = first;
                for (uint32_t k = 0; k < res.nsamples && ns < MAXS; k++, ns++) {
                    const hn_replay_cycle_sample *cy = &res.samples[k];
                    sx[0][ns] = 1;
                    sx[1][ns] = cy->marked;
                    sx[2][ns] = cy->objects;
                    sy[ns] = cy->pause_ns;
                }
            }
            n++;
        }
        unlink(trace);
    }
    rmdir(dir);
    if (rc)
        return rc;

    hn_cost cost;
    hn_cost_defaults(&cost);
    /* Fit every cycle's pause; then once more without the cycles more than four times
     * the median residual off (a pause that a neighbour's process preempted). */
    double coef[NCOEF];
    fit_nonneg(sx, sy, ns, coef);
    double *res = malloc(ns * sizeof *res);
    if (res && ns > 8) {
        for (size_t i = 0; i < ns; i++) {
            double f = 0;
            for (int j = 0; j < NCOEF; j++)
                f += coef[j] * sx[j][i];
            res[i] = fabs(sy[i] - f);
        }
        double *sorted = malloc(ns * sizeof *sorted);
        if (sorted) {
            memcpy(sorted, res, ns * sizeof *sorted);
            qsort(sorted, ns, sizeof *sorted, cmp_double);
            double cut = 4 * sorted[ns / 2];
            size_t kept = 0;
            for (size_t i = 0; i < ns; i++) {
                if (res[i] > cut)
                    continue;
                for (int j = 0; j < NCOEF; j++)
                    sx[j][kept] = sx[j][i];
                sy[kept++] = sy[i];
            }
            fprintf(stderr, "gcsim calibrate: %zu cycles, %zu kept for the fit\n", ns, kept);
            ns = kept;
            fit_nonneg(sx, sy, ns, coef);
            free(sorted);
        }
    }
    free(res);
    double r2_ss = 0, r2_st = 0, r2_mean = 0;
    for (size_t i = 0; i < ns; i++)
        r2_mean += sy[i] / (double)ns;
    for (size_t i = 0; i < ns; i++) {
        double f = 0;
        for (int j = 0; j < NCOEF; j++)
            f += coef[j] * sx[j][i];
        r2_ss += (sy[i] - f) * (sy[i] - f);
        r2_st += (sy[i] - r2_mean) * (sy[i] - r2_mean);
    }
    cost.pause_ns = coef[0];
    cost.mark_ns_per_byte = coef[1];
    cost.mark_ns_per_object = coef[2];
    double sxy = 0, sxx = 0;
    for (size_t i = 0; i < n; i++) {
        sxy += spans[i] * sweep[i];
        sxx += spans[i] * spans[i];
    }
    cost.sweep_ns_per_span = sxx > 0 ? sxy / sxx : 0;

    printf("%-6s %-18s %5s %7s %11s %9s %9s %9s %9s %9s\n", "live", "sizes", "GOGC",
           "cycles", "marked MiB", "objects", "pause ms", "fit ms", "sweep ms", "fit ms");
    for (size_t i = 0; i < n; i++) {
        double fp = coef[0] * x[0][i] + coef[1] * x[1][i] + coef[2] * x[2][i];
        double fs = cost.sweep_ns_per_span * spans[i];
        printf("%-6s %-18s %5d %7.0f %11.1f %8.2fM %9.2f %9.2f %9.2f %9.2f\n",
               heaps[i / NGOGC].live, heaps[i / NGOGC].sizes, gogcs[i % NGOGC], x[0][i],
               x[1][i] / 1048576, x[2][i] / 1e6, pause[i] / 1e6, fp / 1e6, sweep[i] / 1e6,
               fs / 1e6);
    }
    printf("fit: pause_ns %.1f, mark_ns_per_byte %.4f, mark_ns_per_object %.2f, "
           "sweep_ns_per_span %.2f (per-cycle pause fit R^2 %.3f)\n",
           cost.pause_ns, cost.mark_ns_per_byte, cost.mark_ns_per_object,
           cost.sweep_ns_per_span,
           r2_st > 0 ? 1 - r2_ss / r2_st : 1);
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
