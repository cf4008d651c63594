/*
 * cmd_sim.c: `gcsim [OPTIONS] trace.bin`, the default command: simulate the trace under
 * one or more GOGC settings (and a GOMEMLIMIT), print the summary side by side, write
 * the time series and pictures asked for, and run the replays asked for.
 *
 * Each setting is one pass over the trace (the reader streams it, so memory stays in
 * proportion to the live objects). Options are parsed and checked before any trace is
 * read, so a bad option never costs a pass.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gc/pacer.h"
#include "gc/settings.h"
#include "sim/gcsim.h"
#include "sim/replay.h"
#include "sim/report.h"
#include "sim/simulate.h"
#include "sim/trace_read.h"

/* Most settings in one --gogc list: a table wider than this does not fit a screen. */
#define MAX_SETTINGS 8
/* Progress is redrawn at most this often. */
#define PROGRESS_PERIOD_NS 100000000

enum {
    OPT_GOGC = 256, OPT_GOMEMLIMIT, OPT_PROCS, OPT_GCTRACE, OPT_CSV, OPT_JSON, OPT_SVG,
    OPT_HTML, OPT_COST, OPT_REPLAY, OPT_ALLOCATOR, OPT_BENCH, OPT_PROGRESS, OPT_NO_PROGRESS,
    OPT_HELP, OPT_TIME_SCALE, OPT_CYCLES,
};

static const struct option long_opts[] = {
    {"gogc", required_argument, NULL, OPT_GOGC},
    {"gomemlimit", required_argument, NULL, OPT_GOMEMLIMIT},
    {"procs", required_argument, NULL, OPT_PROCS},
    {"time-scale", required_argument, NULL, OPT_TIME_SCALE},
    {"gctrace", no_argument, NULL, OPT_GCTRACE},
    {"csv", required_argument, NULL, OPT_CSV},
    {"json", required_argument, NULL, OPT_JSON},
    {"svg", required_argument, NULL, OPT_SVG},
    {"html", required_argument, NULL, OPT_HTML},
    {"cost", required_argument, NULL, OPT_COST},
    {"replay", required_argument, NULL, OPT_REPLAY},
    {"cycles", required_argument, NULL, OPT_CYCLES},
    {"allocator", required_argument, NULL, OPT_ALLOCATOR},
    {"bench", no_argument, NULL, OPT_BENCH},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static const char usage_text[] =
    "usage: gcsim [OPTIONS] trace.bin\n"
    "Simulates the trace under Go-style GC settings and prints heap, RSS and GC CPU.\n"
    "  --gogc=N|off[,N|off...]  GOGC, or several for a side-by-side table (default 100)\n"
    "  --gomemlimit=SIZE|off    GOMEMLIMIT in Go's syntax: 64MiB, 1GiB (default off)\n"
    "  --procs=N                processors (GOMAXPROCS) of the model (default: the\n"
    "                           trace's threads, one more each time a thread appears;\n"
    "                           with --replay=gc, the CPUs online, as the collector)\n"
    "  --time-scale=X           the program X times slower (or faster): its time line\n"
    "                           stretched by X, in the simulation and the replay\n"
    "  --cost=default|FILE      cost model: the compiled-in defaults, or a calibration\n"
    "                           file (default: $XDG_CONFIG_HOME/heron/gcsim-calibration\n"
    "                           when `gcsim calibrate` wrote it, else the defaults)\n"
    "  --gctrace                one GODEBUG=gctrace=1 line per cycle on stdout\n"
    "  --csv=FILE, --json=FILE  time series: t, heap, goal, live, RSS, cycles\n"
    "  --svg=FILE, --html=FILE  picture of heap, goal, live heap and RSS over time\n"
    "  --replay=gc              also run the trace on the real collector, side by side\n"
    "                           (on the trace's time line: takes the trace's duration)\n"
    "  --cycles=FILE            with --replay=gc: the replay's marking cycle by cycle\n"
    "                           (CPU, bytes, objects, pages held; the cost model's\n"
    "                           CPU for them), CSV\n"
    "  --replay=malloc --allocator=heron,jemalloc,glibc,mimalloc,tcmalloc\n"
    "                           replay the calls on real allocators (time and RSS)\n"
    "  --bench                  print the simulation speed (events per second)\n"
    "  --progress, --no-progress  force the progress bar on stderr (default: when a tty)\n";

struct opts {
    int32_t gogc[MAX_SETTINGS];
    size_t ngogc;
    int64_t memory_limit;
    int32_t procs;
    double time_scale;
    const char *cost;
    bool gctrace;
    const char *csv, *json, *svg, *html;
    const char *replay;
    const char *cycles;
    const char *allocators;
    bool bench;
    int progress; /* -1 auto */
    const char *trace;
};

static int parse_gogc_list(struct opts *o, const char *arg)
{
    char buf[256];
    if (strlen(arg) >= sizeof buf || arg[0] == 0) {
        hn_gcsim_error("--gogc=%s: expected N, off, or a comma-separated list of them", arg);
        return -1;
    }
    strcpy(buf, arg);
    o->ngogc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (o->ngogc == MAX_SETTINGS) {
            hn_gcsim_error("--gogc=%s: at most %d settings", arg, MAX_SETTINGS);
            return -1;
        }
        char err[HN_SETTINGS_ERR_MAX];
        int32_t v;
        if (hn_settings_parse_gogc(tok, &v, err, sizeof err) < 0) {
            hn_gcsim_error("--gogc=%s: %s", arg, err);
            return -1;
        }
        o->gogc[o->ngogc++] = v;
    }
    if (o->ngogc == 0 || arg[strlen(arg) - 1] == ',' || strstr(arg, ",,") || arg[0] == ',') {
        hn_gcsim_error("--gogc=%s: empty item in the list", arg);
        return -1;
    }
    return 0;
}

/* 0 ok, 1 --help, 2 usage error (message printed). */
static int parse(struct opts *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->gogc[0] = HN_SETTINGS_GOGC_DEFAULT;
    o->ngogc = 1;
    o->memory_limit = HN_PACER_NO_LIMIT;
    o->progress = -1;
    opterr = 0;
    optind = 1;
    int c;
    long long n;
    char err[HN_SETTINGS_ERR_MAX];
    while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
        switch (c) {
        case OPT_GOGC:
            if (parse_gogc_list(o, optarg) < 0)
                return 2;
            break;
        case OPT_GOMEMLIMIT:
            if (hn_settings_parse_gomemlimit(optarg, &o->memory_limit, err, sizeof err) < 0 ||
                optarg[0] == 0) {
                hn_gcsim_error("--gomemlimit=%s: %s", optarg,
                               optarg[0] ? err : "expected a size such as 64MiB, or off");
                return 2;
            }
            break;
        case OPT_PROCS:
            if (hn_gcsim_int("procs", optarg, 1, 1024, &n) < 0)
                return 2;
            o->procs = (int32_t)n;
            break;
        case OPT_TIME_SCALE: {
            char *end;
            errno = 0;
            double x = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(x >= 0.001 && x <= 1000)) {
                hn_gcsim_error("--time-scale=%s: expected a number from 0.001 to 1000", optarg);
                return 2;
            }
            o->time_scale = x;
            break;
        }
        case OPT_GCTRACE: o->gctrace = true; break;
        case OPT_CSV: o->csv = optarg; break;
        case OPT_JSON: o->json = optarg; break;
        case OPT_SVG: o->svg = optarg; break;
        case OPT_HTML: o->html = optarg; break;
        case OPT_COST:
            if (optarg[0] == 0) {
                hn_gcsim_error("--cost=: expected default or a calibration file");
                return 2;
            }
            o->cost = optarg;
            break;
        case OPT_REPLAY:
            if (strcmp(optarg, "gc") != 0 && strcmp(optarg, "malloc") != 0) {
                hn_gcsim_error("--replay=%s: expected gc or malloc", optarg);
                return 2;
            }
            o->replay = optarg;
            break;
        case OPT_CYCLES: o->cycles = optarg; break;
        case OPT_ALLOCATOR: o->allocators = optarg; break;
        case OPT_BENCH: o->bench = true; break;
        case OPT_PROGRESS: o->progress = 1; break;
        case OPT_NO_PROGRESS: o->progress = 0; break;
        case 'h':
        case OPT_HELP:
            return 1;
        case ':':
            hn_gcsim_error("option %s needs a value", argv[optind - 1]);
            return 2;
        default:
            if (optopt)
                hn_gcsim_error("unknown option '-%c'", optopt);
            else
                hn_gcsim_error("unknown option '%s'", argv[optind - 1]);
            return 2;
        }
    }
    if (optind >= argc) {
        hn_gcsim_error("no trace given (usage: gcsim [OPTIONS] trace.bin)");
        return 2;
    }
    if (optind + 1 < argc) {
        hn_gcsim_error("one trace at a time: '%s' is extra", argv[optind + 1]);
        return 2;
    }
    o->trace = argv[optind];
    if (o->allocators && (!o->replay || strcmp(o->replay, "malloc") != 0)) {
        hn_gcsim_error("--allocator needs --replay=malloc");
        return 2;
    }
    if (o->cycles && (!o->replay || strcmp(o->replay, "gc") != 0)) {
        hn_gcsim_error("--cycles needs --replay=gc");
        return 2;
    }
    if (o->replay && strcmp(o->replay, "malloc") == 0 && !o->allocators)
        o->allocators = "heron,glibc";
    return 0;
}

/* The cost model the options ask for: 0, or 1 (failure, message printed). */
static int load_cost(const struct opts *o, hn_cost *cost)
{
    hn_cost_defaults(cost);
    char err[HN_COST_ERR_LEN];
    if (o->cost && strcmp(o->cost, "default") == 0)
        return 0;
    if (o->cost) {
        int rc = hn_cost_load(cost, o->cost, err);
        if (rc == 0) {
            hn_gcsim_error("--cost=%s: no such file", o->cost);
            return 1;
        }
        if (rc < 0) {
            hn_gcsim_error("%s", err);
            return 1;
        }
        return 0;
    }
    /* On the heap: a replay runs under this frame, and the collector scans its stack
     * as the program's (replay_gc.c, step 4). */
    char *path = malloc(PATH_MAX);
    if (!path) {
        hn_gcsim_error("out of memory");
        return 1;
    }
    int rc = 0;
    if (hn_cost_path(path, PATH_MAX) == 0 && hn_cost_load(cost, path, err) < 0) {
        hn_gcsim_error("%s (run `gcsim calibrate` again, or use --cost=default)", err);
        rc = 1;
    }
    free(path);
    return rc;
}

struct progress {
    bool on;
    uint64_t size;
    int64_t last;
    const char *label;
};

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t mono_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

static void progress_draw(struct progress *p, uint64_t done, bool final)
{
    int64_t now = mono_ns();
    if (!final && now - p->last < PROGRESS_PERIOD_NS)
        return;
    p->last = now;
    double frac = p->size ? (double)done / (double)p->size : 0;
    if (frac > 1 || final)
        frac = 1;
    char bar[41];
    int fill = (int)(frac * 40);
    for (int i = 0; i < 40; i++)
        bar[i] = i < fill ? '#' : ' ';
    bar[40] = 0;
    fprintf(stderr, "\r%-10s [%s] %3.0f%%", p->label, bar, frac * 100);
    if (final)
        fputs("\r\033[K", stderr);
    fflush(stderr);
}

/* Events read ahead of the model; enough to cover a memory miss (about 100-300 ns on
 * the development VM) at 20-50 ns an event. */
#define PREFETCH_AHEAD 16

/* Feeds event number k: 0, or -1 (message printed). */
static int sim_step(const struct opts *o, hn_sim *sim, const hn_trace_event *ev, uint64_t k)
{
    if (hn_sim_event(sim, ev) == 0)
        return 0;
    if (errno == ENOMEM)
        hn_gcsim_error("%s: out of memory at event %" PRIu64, o->trace, k);
    else
        hn_gcsim_error("%s: event %" PRIu64 ": %s of object %" PRIu64 ", which is not live",
                       o->trace, k, ev->kind == HN_EV_FREE ? "free" : "realloc",
                       ev->kind == HN_EV_FREE ? ev->id : ev->old_id);
    return -1;
}

/* One simulation pass: 0, or 1 (failure, message printed). */
static int simulate_one(const struct opts *o, const hn_sim_config *cfg, hn_sim *sim,
                        struct progress *pg, double *secs)
{
    char err[HN_TRACE_ERR_LEN];
    hn_trace_reader *r = hn_trace_reader_open(o->trace, err);
    if (!r) {
        hn_gcsim_error("%s", err);
        return 1;
    }
    if (hn_sim_init(sim, cfg) < 0) {
        hn_gcsim_error("out of memory");
        hn_trace_reader_close(r);
        return 1;
    }
    /* The speed figure is CPU time of this thread: on a shared machine wall time
     * measures the neighbours. Reading and simulating are both counted. */
    int64_t t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    /* A window of events read ahead: each free's slot is prefetched PREFETCH_AHEAD
     * events before the model looks it up. */
    hn_trace_event win[PREFETCH_AHEAD];
    int rc;
    uint64_t k = 0, nread = 0;
    for (;;) {
        hn_trace_event *ev = &win[nread % PREFETCH_AHEAD];
        if (nread >= PREFETCH_AHEAD && sim_step(o, sim, ev, k++) < 0) {
            hn_trace_reader_close(r);
            return 1;
        }
        rc = hn_trace_next(r, ev);
        if (rc <= 0)
            break;
        hn_sim_prefetch(sim, ev);
        nread++;
        if (pg->on && (nread & 0xffff) == 0)
            progress_draw(pg, hn_trace_reader_bytes(r), false);
    }
    for (uint64_t i = nread > PREFETCH_AHEAD ? nread - PREFETCH_AHEAD + 1 : 0;
         rc == 0 && i < nread; i++) {
        if (sim_step(o, sim, &win[i % PREFETCH_AHEAD], k++) < 0) {
            hn_trace_reader_close(r);
            return 1;
        }
    }
    if (pg->on)
        progress_draw(pg, 0, true);
    if (rc < 0) {
        hn_gcsim_error("%s", hn_trace_reader_error(r));
        hn_trace_reader_close(r);
        return 1;
    }
    if (hn_trace_reader_warning(r))
        hn_gcsim_warn("%s", hn_trace_reader_warning(r));
    if (nread == 0) {
        hn_gcsim_error("%s: the trace has no events", o->trace);
        hn_trace_reader_close(r);
        return 1;
    }
    hn_sim_finish(sim);
    *secs = (double)(clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0) / 1e9;
    hn_trace_reader_close(r);
    return 0;
}

static int write_outputs(const struct opts *o, const hn_run *runs, size_t n)
{
    char err[HN_REPORT_ERR_LEN];
    if (o->csv && hn_report_csv(o->csv, runs, n, err) < 0)
        goto fail;
    if (o->json && hn_report_json(o->json, o->trace, runs, n, err) < 0)
        goto fail;
    if (o->svg && hn_report_svg(o->svg, o->trace, runs, n, err) < 0)
        goto fail;
    if (o->html && hn_report_html(o->html, o->trace, runs, n, err) < 0)
        goto fail;
    return 0;
fail:
    hn_gcsim_error("%s", err);
    return 1;
}

int hn_cmd_sim(int argc, char **argv)
{
    struct opts o;
    int rc = parse(&o, argc, argv);
    if (rc == 1) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (rc)
        return rc;

    if (o.replay && strcmp(o.replay, "malloc") == 0)
        return hn_replay_malloc(o.trace, o.allocators, o.csv);

    hn_sim_config cfg = {0};
    if (load_cost(&o, &cfg.cost))
        return 1;
    cfg.memory_limit = o.memory_limit;
    /* Beside a replay, the model plans with the processors the collector plans with
     * (its pacer takes the CPUs online), so the two columns describe the same thing. */
    if (o.replay && o.procs == 0) {
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        o.procs = ncpu > 0 ? (int32_t)ncpu : 1;
    }
    cfg.procs = o.procs;
    cfg.time_scale = o.time_scale;
    cfg.gctrace = o.gctrace ? stdout : NULL;
    cfg.series = o.csv || o.json || o.svg || o.html;

    struct progress pg = {0};
    pg.on = o.progress == 1 || (o.progress == -1 && isatty(2));
    struct stat st;
    if (pg.on && strcmp(o.trace, "-") != 0 && stat(o.trace, &st) == 0)
        pg.size = (uint64_t)st.st_size;
    else
        pg.on = pg.on && o.progress == 1;

    size_t nruns = o.ngogc * (o.replay ? 2 : 1);
    hn_sim *sims = calloc(o.ngogc, sizeof *sims);
    hn_run *runs = calloc(nruns, sizeof *runs);
    if (!sims || !runs) {
        free(sims);
        free(runs);
        hn_gcsim_error("out of memory");
        return 1;
    }
    size_t done = 0;
    rc = 0;
    char lim[32];
    for (size_t i = 0; i < o.ngogc; i++) {
        cfg.gogc = o.gogc[i];
        hn_run *run = &runs[i];
        char gogc[32];
        hn_report_gogc(gogc, sizeof gogc, cfg.gogc);
        snprintf(run->label, sizeof run->label, "%s", gogc);
        snprintf(run->setting, sizeof run->setting, "%s GOMEMLIMIT=%s", gogc,
                 hn_report_limit(lim, sizeof lim, cfg.memory_limit));
        pg.label = run->label;
        if (o.gctrace && o.ngogc > 1)
            printf("# %s\n", run->setting);
        double secs = 0;
        if ((rc = simulate_one(&o, &cfg, &sims[i], &pg, &secs)) != 0)
            break;
        done++;
        run->gogc = cfg.gogc;
        run->memory_limit = cfg.memory_limit;
        run->procs = o.procs;
        run->replay = false;
        run->sum = sims[i].sum;
        run->series = cfg.series ? &sims[i].series : NULL;
        if (o.bench)
            fprintf(stderr, "gcsim: %s: %.0f events in %.3f s of CPU: %.1f million events/s\n",
                    run->label, run->sum.events, secs, run->sum.events / secs / 1e6);
    }
    /* Each replay beside its simulation: GOGC=50, gc GOGC=50, GOGC=100, ... */
    if (rc == 0 && o.replay) {
        for (size_t i = o.ngogc; i-- > 0;)
            runs[2 * i] = runs[i];
        FILE *cycles = NULL;
        if (o.cycles && !(cycles = fopen(o.cycles, "w"))) {
            hn_gcsim_error("--cycles=%s: %s", o.cycles, strerror(errno));
            rc = 1;
        }
        if (cycles)
            hn_replay_cycles_header(cycles);
        for (size_t i = 0; i < o.ngogc && rc == 0; i++)
            rc = hn_replay_gc(o.trace, o.gogc[i], o.memory_limit, o.time_scale,
                              &runs[2 * i + 1], cycles, &cfg.cost);
        if (cycles && (ferror(cycles) | fclose(cycles)) && rc == 0) {
            hn_gcsim_error("--cycles=%s: write failed", o.cycles);
            rc = 1;
        }
    }
    if (rc == 0) {
        printf("gcsim: %s, cost model: %s\n", o.trace, cfg.cost.source);
        hn_report_summary(stdout, runs, nruns);
        rc = write_outputs(&o, runs, nruns);
    }
    for (size_t i = 0; i < done; i++)
        hn_sim_destroy(&sims[i]);
    free(sims);
    free(runs);
    return rc;
}
