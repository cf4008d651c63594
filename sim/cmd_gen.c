/*
 * cmd_gen.c: `gcsim gen PATTERN -o trace.bin`: synthetic traces for users who have none.
 *
 * Every pattern is one loop: draw a size from the chosen distribution, advance the clock
 * by size / rate (so bytes are allocated at the given rate), allocate, then free live
 * objects until the live bytes are back under the pattern's target for the current time.
 * Which objects die (--deaths):
 *   random  chosen uniformly (the default): exponentially distributed lifetimes, the
 *           simplest model of a program's churn. Survivors are scattered, so the live
 *           objects share their pages with garbage.
 *   oldest  the oldest first: every object lives about as long, and objects allocated
 *           together die together, so the live heap fills whole pages (a program that
 *           keeps its last N results; python-json's trace frees pages at a time).
 * The patterns differ only in the target:
 *
 *   steady  the live heap L throughout (reached after a ramp of L / rate)
 *   spike   L, except PEAK for SPIKE-LENGTH from SPIKE-AT (a burst that is then dropped)
 *   leak    L + leak rate * t: a live heap that grows without end
 *   phases  the listed sizes in turn, each for an equal part of the duration
 *
 * Deterministic: the same options and seed give the same file, byte for byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/gcsim.h"
#include "sim/trace_write.h"
#include "sim/trace_read.h"
#include "sim/u64map.h"
#include "sim/units.h"

#define MAX_PHASES 64
#define GEN_SIZE_MAX ((uint64_t)1 << 30) /* drawn sizes are clamped to 1 B .. 1 GiB */

enum pattern { P_STEADY, P_SPIKE, P_LEAK, P_PHASES };
static const char *const pattern_names[] = {"steady", "spike", "leak", "phases"};

enum dist { D_FIXED, D_UNIFORM, D_LOGNORMAL, D_TRACE };

enum deaths { DEATHS_RANDOM, DEATHS_OLDEST };
static const char *const deaths_names[] = {"random", "oldest"};

struct gen {
    enum pattern pattern;
    enum dist dist;
    double d1, d2;            /* fixed: size; uniform: lo, hi; lognormal: median, sigma */
    uint64_t live, peak;
    double rate, leak_rate;   /* bytes per second */
    uint64_t duration, spike_at, spike_len; /* ns */
    uint64_t phases[MAX_PHASES];
    unsigned nphases;
    unsigned threads;
    enum deaths deaths;
    uint64_t seed;
    uint64_t rng[4];          /* xoshiro256** state */
    /* trace:FILE sizes: the distinct sizes, ascending, and how many allocations asked for
     * each size or a smaller one (cum[k] counts sizes[0..k]); nsizes of them. */
    uint64_t *sizes, *cum;
    size_t nsizes;
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna): fast, and its stream is fixed by the seed. */
static uint64_t next_u64(struct gen *g)
{
    uint64_t *s = g->rng;
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

/* Uniform in [0, 1). */
static double next_unit(struct gen *g)
{
    return (double)(next_u64(g) >> 11) * 0x1.0p-53;
}

static uint64_t below(struct gen *g, uint64_t n)
{
    return (uint64_t)(next_unit(g) * (double)n);
}

static uint64_t draw_size(struct gen *g)
{
    double v;
    switch (g->dist) {
    case D_FIXED: v = g->d1; break;
    case D_UNIFORM: v = g->d1 + floor(next_unit(g) * (g->d2 - g->d1 + 1)); break;
    case D_TRACE: {
        /* The first size whose cumulative count exceeds a uniform draw below the total:
         * each size as often as the trace asked for it. */
        uint64_t u = below(g, g->cum[g->nsizes - 1]);
        size_t lo = 0, hi = g->nsizes - 1;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (g->cum[mid] > u)
                hi = mid;
            else
                lo = mid + 1;
        }
        v = (double)g->sizes[lo];
        break;
    }
    default: {
        double u1 = next_unit(g), u2 = next_unit(g);
        double z = sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2); /* Box-Muller */
        v = round(g->d1 * exp(g->d2 * z));
        break;
    }
    }
    if (v < 1)
        v = 1;
    if (v > (double)GEN_SIZE_MAX)
        v = (double)GEN_SIZE_MAX;
    return (uint64_t)v;
}

static uint64_t target(const struct gen *g, uint64_t t)
{
    switch (g->pattern) {
    case P_SPIKE:
        return t >= g->spike_at && t - g->spike_at < g->spike_len ? g->peak : g->live;
    case P_LEAK:
        return g->live + (uint64_t)(g->leak_rate * (double)t / 1e9);
    case P_PHASES: {
        uint64_t i = t / ((g->duration + g->nphases - 1) / g->nphases);
        return g->phases[i < g->nphases ? i : g->nphases - 1];
    }
    default:
        return g->live;
    }
}

struct live_obj {
    uint64_t id, size;
};

static int generate(struct gen *g, int fd, const char *out, const char *cmdline)
{
    static unsigned char buf[HN_TRACE_WRITER_BUF];
    hn_trace_writer w;
    char seed[32];
    snprintf(seed, sizeof seed, "%" PRIu64, g->seed);
    hn_trace_meta meta[] = {
        {"generator", "gcsim gen " HN_GCSIM_VERSION},
        {"args", cmdline},
        {"clock", "synthetic"},
        {"pattern", pattern_names[g->pattern]},
        {"seed", seed},
        {"deaths", deaths_names[g->deaths]},
    };
    /* The default order is left unsaid, so its files stay as they were. */
    size_t nmeta = sizeof meta / sizeof meta[0] - (g->deaths == DEATHS_RANDOM);
    uint64_t state = g->seed;
    for (int i = 0; i < 4; i++)
        g->rng[i] = splitmix64(&state);

    /* The live objects are live[first .. n): allocation appends, an oldest-first death
     * takes live[first], a random one moves live[n - 1] into the dead one's place. */
    size_t cap = 1024, n = 0, first = 0;
    struct live_obj *live = malloc(cap * sizeof *live);
    if (!live) {
        hn_gcsim_error("out of memory");
        return 1;
    }
    hn_trace_writer_init(&w, fd, 0, buf, sizeof buf);
    hn_trace_write_header(&w, meta, nmeta);

    double clock = 0;
    uint64_t live_bytes = 0;
    unsigned seen = 0; /* threads are numbered in order of first appearance */
    while (clock < (double)g->duration && !w.err) {
        uint64_t size = draw_size(g);
        clock += (double)size * 1e9 / g->rate;
        uint64_t t = (uint64_t)clock;
        unsigned th = (unsigned)below(g, g->threads);
        if (th >= seen)
            th = seen++;
        if (n == cap && first >= cap / 2) {
            memmove(live, live + first, (n - first) * sizeof *live);
            n -= first;
            first = 0;
        }
        if (n == cap) {
            struct live_obj *bigger = realloc(live, 2 * cap * sizeof *live);
            if (!bigger) {
                free(live);
                hn_gcsim_error("out of memory");
                return 1;
            }
            live = bigger;
            cap *= 2;
        }
        live[n].id = hn_trace_put_alloc(&w, HN_EV_MALLOC, t, th, size, 0, 0);
        live[n++].size = size;
        live_bytes += size;
        uint64_t goal = target(g, t);
        while (live_bytes > goal && n > first) {
            size_t i = g->deaths == DEATHS_OLDEST ? first : first + below(g, n - first);
            th = (unsigned)below(g, seen);
            hn_trace_put_free(&w, t, th, live[i].id);
            live_bytes -= live[i].size;
            if (g->deaths == DEATHS_OLDEST)
                first++;
            else
                live[i] = live[--n];
        }
    }
    free(live);
    hn_trace_writer_finish(&w);
    if (w.err) {
        hn_gcsim_error("%s: %s", out, strerror(w.err));
        return 1;
    }
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* --sizes=trace:PATH: the sizes the trace's allocations asked for (mallocs, callocs,
 * reallocs' new sizes, aligned ones), each drawn as often as it was asked for: a
 * synthetic heap with a recorded program's size mix. Memory in proportion to the
 * distinct sizes, not to the trace. 0, or -1 with the error printed. */
static int sizes_from_trace(struct gen *g, const char *path)
{
    char err[HN_TRACE_ERR_LEN];
    hn_trace_reader *r = hn_trace_reader_open(path, err);
    if (!r) {
        hn_gcsim_error("gen: --sizes: %s", err);
        return -1;
    }
    hn_u64map counts; /* size + 1 (a key is never 0) -> allocations of that size */
    if (hn_u64map_init(&counts) < 0) {
        hn_trace_reader_close(r);
        hn_gcsim_error("out of memory");
        return -1;
    }
    hn_trace_event ev = {0};
    int rc, status = 0;
    while ((rc = hn_trace_next(r, &ev)) > 0 && status == 0) {
        if (ev.kind == HN_EV_FREE)
            continue;
        uint64_t size = ev.size ? ev.size : 1; /* malloc(0) still takes an object */
        if (size > GEN_SIZE_MAX)
            size = GEN_SIZE_MAX;
        hn_u64map_slot *slot = hn_u64map_find(&counts, size + 1);
        if (slot)
            slot->a++;
        else if (hn_u64map_insert(&counts, size + 1, 1, 0) < 0)
            status = -1;
    }
    if (status < 0)
        hn_gcsim_error("out of memory");
    else if (rc < 0) {
        hn_gcsim_error("gen: --sizes: %s", hn_trace_reader_error(r));
        status = -1;
    } else if (counts.count == 0) {
        hn_gcsim_error("gen: --sizes: %s: the trace allocates nothing", path);
        status = -1;
    } else if (hn_trace_reader_warning(r)) {
        hn_gcsim_warn("%s", hn_trace_reader_warning(r)); /* cut short: the sizes read */
    }
    hn_trace_reader_close(r);
    size_t n = (size_t)counts.count;
    if (status == 0) {
        g->sizes = malloc(n * sizeof *g->sizes);
        g->cum = malloc(n * sizeof *g->cum);
        if (!g->sizes || !g->cum) {
            hn_gcsim_error("out of memory");
            status = -1;
        }
    }
    if (status == 0) {
        size_t k = 0;
        for (uint64_t i = 0; i <= counts.mask; i++)
            if (counts.slots[i].key)
                g->sizes[k++] = counts.slots[i].key - 1;
        qsort(g->sizes, n, sizeof *g->sizes, cmp_u64);
        uint64_t total = 0;
        for (k = 0; k < n; k++) {
            total += hn_u64map_find(&counts, g->sizes[k] + 1)->a;
            g->cum[k] = total;
        }
        g->nsizes = n;
        g->dist = D_TRACE;
    }
    hn_u64map_destroy(&counts);
    return status;
}

/* --sizes: 0, or the exit status with the error printed (2 bad syntax, 1 a trace that
 * cannot be read). */
static int parse_sizes(struct gen *g, const char *s)
{
    char kind[16], a[64], b[64], err[HN_UNITS_ERR_LEN];
    uint64_t x, y = 0;
    if (strncmp(s, "trace:", 6) == 0)
        return sizes_from_trace(g, s + 6) < 0 ? 1 : 0;
    int n = sscanf(s, "%15[a-z]:%63[^:]:%63s", kind, a, b);
    if (n >= 2 && hn_parse_size(a, &x, err) == 0 && x > 0) {
        if (strcmp(kind, "fixed") == 0 && n == 2) {
            g->dist = D_FIXED;
            g->d1 = (double)x;
            return 0;
        }
        if (strcmp(kind, "uniform") == 0 && n == 3 && hn_parse_size(b, &y, err) == 0 && y >= x) {
            g->dist = D_UNIFORM;
            g->d1 = (double)x;
            g->d2 = (double)y;
            return 0;
        }
        char *end;
        double sigma = n == 3 ? strtod(b, &end) : -1;
        if (strcmp(kind, "lognormal") == 0 && n == 3 && *end == 0 && sigma >= 0 && sigma <= 10) {
            g->dist = D_LOGNORMAL;
            g->d1 = (double)x;
            g->d2 = sigma;
            return 0;
        }
    }
    hn_gcsim_error("--sizes=%s: expected fixed:SIZE, uniform:MIN:MAX, lognormal:MEDIAN:SIGMA "
                   "(SIGMA from 0 to 10) or trace:FILE", s);
    return 2;
}

static int parse_phases(struct gen *g, const char *s)
{
    char copy[1024], err[HN_UNITS_ERR_LEN];
    snprintf(copy, sizeof copy, "%s", s);
    g->nphases = 0;
    for (char *save, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (g->nphases == MAX_PHASES) {
            hn_gcsim_error("--phases: more than %d phases", MAX_PHASES);
            return -1;
        }
        if (hn_parse_size(tok, &g->phases[g->nphases++], err) < 0) {
            hn_gcsim_error("--phases: %s", err);
            return -1;
        }
    }
    if (!g->nphases) {
        hn_gcsim_error("--phases: no sizes given");
        return -1;
    }
    return 0;
}

static int gen_usage(FILE *to)
{
    fprintf(to,
        "usage: gcsim gen steady|spike|leak|phases -o trace.bin [options]\n"
        "  -o, --output=FILE      where to write the trace ('-' for standard output)\n"
        "  --live=SIZE            live heap to hold (default 64MiB)\n"
        "  --rate=RATE            allocation rate (default 64MiB/s)\n"
        "  --duration=DURATION    length of the trace (default 10s)\n"
        "  --sizes=DIST           fixed:SIZE, uniform:MIN:MAX, lognormal:MEDIAN:SIGMA\n"
        "                         (default lognormal:64:1), or trace:FILE (the sizes a\n"
        "                         recorded trace allocated, as often as it did)\n"
        "  --deaths=ORDER         which objects die: random (default) or oldest (first)\n"
        "  --threads=N            threads the events are spread over (default 1)\n"
        "  --seed=N               random seed; equal seeds give equal files (default 1)\n"
        "  spike:  --peak=SIZE (default 4x live) --spike-at=DURATION (default half way)\n"
        "          --spike-length=DURATION (default a tenth of the duration)\n"
        "  leak:   --leak-rate=RATE (default live/duration: the live heap doubles)\n"
        "  phases: --phases=SIZE,SIZE,... (default live,4*live,live/2)\n"
        "Sizes take Go's suffixes (64MiB, 1GiB) and decimal ones (64MB); durations are Go's\n"
        "(500ms, 1m30s); rates are SIZE/s or SIZE/DURATION.\n");
    return to == stdout ? 0 : 2;
}

int hn_cmd_gen(int argc, char **argv)
{
    enum { O_LIVE = 256, O_RATE, O_DURATION, O_SIZES, O_THREADS, O_SEED, O_PEAK, O_SPIKE_AT,
           O_SPIKE_LEN, O_LEAK, O_PHASES, O_DEATHS };
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'}, {"live", required_argument, NULL, O_LIVE},
        {"rate", required_argument, NULL, O_RATE}, {"duration", required_argument, NULL, O_DURATION},
        {"sizes", required_argument, NULL, O_SIZES}, {"threads", required_argument, NULL, O_THREADS},
        {"seed", required_argument, NULL, O_SEED}, {"peak", required_argument, NULL, O_PEAK},
        {"spike-at", required_argument, NULL, O_SPIKE_AT},
        {"spike-length", required_argument, NULL, O_SPIKE_LEN},
        {"leak-rate", required_argument, NULL, O_LEAK}, {"phases", required_argument, NULL, O_PHASES},
        {"deaths", required_argument, NULL, O_DEATHS},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    struct gen g = {.dist = D_LOGNORMAL, .d1 = 64, .d2 = 1, .live = 64u << 20,
                    .rate = 64.0 * 1048576, .duration = 10000000000ull, .threads = 1, .seed = 1};
    const char *out = NULL, *phases = NULL;
    int have_spike_at = 0, have_spike_len = 0, have_leak = 0, c;
    char err[HN_UNITS_ERR_LEN];
    long long n;
    char cmdline[1024] = "gcsim";
    for (int i = 0; i < argc; i++) {
        size_t used = strlen(cmdline);
        snprintf(cmdline + used, sizeof cmdline - used, " %s", argv[i]);
    }

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'o': out = optarg; break;
        case O_LIVE: bad = hn_parse_size(optarg, &g.live, err); break;
        case O_PEAK: bad = hn_parse_size(optarg, &g.peak, err); break;
        case O_RATE: bad = hn_parse_rate(optarg, &g.rate, err); break;
        case O_LEAK: bad = hn_parse_rate(optarg, &g.leak_rate, err); have_leak = 1; break;
        case O_DURATION: bad = hn_parse_duration(optarg, &g.duration, err); break;
        case O_SPIKE_AT: bad = hn_parse_duration(optarg, &g.spike_at, err); have_spike_at = 1; break;
        case O_SPIKE_LEN: bad = hn_parse_duration(optarg, &g.spike_len, err); have_spike_len = 1; break;
        case O_SIZES: {
            int status = parse_sizes(&g, optarg);
            if (status)
                return status;
            break;
        }
        case O_PHASES: phases = optarg; break;
        case O_DEATHS:
            if (strcmp(optarg, "random") == 0) {
                g.deaths = DEATHS_RANDOM;
            } else if (strcmp(optarg, "oldest") == 0) {
                g.deaths = DEATHS_OLDEST;
            } else {
                hn_gcsim_error("gen: --deaths: '%s' is not random or oldest", optarg);
                return 2;
            }
            break;
        case O_THREADS:
            if (hn_gcsim_int("threads", optarg, 1, 1 << 16, &n) < 0)
                return 2;
            g.threads = (unsigned)n;
            break;
        case O_SEED:
            if (hn_gcsim_int("seed", optarg, 0, LLONG_MAX, &n) < 0)
                return 2;
            g.seed = (uint64_t)n;
            break;
        case 'h': return gen_usage(stdout);
        default: return gen_usage(stderr);
        }
        if (bad) {
            hn_gcsim_error("gen: %s", err);
            return 2;
        }
    }
    if (optind != argc - 1) {
        hn_gcsim_error("gen: give one pattern: steady, spike, leak or phases");
        return gen_usage(stderr);
    }
    int found = 0;
    for (int i = 0; i < 4; i++)
        if (strcmp(argv[optind], pattern_names[i]) == 0) {
            g.pattern = (enum pattern)i;
            found = 1;
        }
    if (!found) {
        hn_gcsim_error("gen: unknown pattern '%s' (steady, spike, leak or phases)", argv[optind]);
        return 2;
    }
    if (!out) {
        hn_gcsim_error("gen: no output file (-o trace.bin)");
        return 2;
    }
    if (g.duration == 0) {
        hn_gcsim_error("gen: --duration must be more than zero");
        return 2;
    }
    if (!g.peak)
        g.peak = g.live * 4;
    if (!have_spike_at)
        g.spike_at = g.duration / 2;
    if (!have_spike_len)
        g.spike_len = g.duration / 10;
    if (!have_leak)
        g.leak_rate = (double)g.live * 1e9 / (double)g.duration;
    if (phases) {
        if (parse_phases(&g, phases) < 0)
            return 2;
    } else {
        g.phases[0] = g.live;
        g.phases[1] = g.live * 4;
        g.phases[2] = g.live / 2;
        g.nphases = 3;
    }

    int fd = strcmp(out, "-") == 0 ? dup(1) : open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        hn_gcsim_error("%s: %s", out, strerror(errno));
        return 1;
    }
    int rc = generate(&g, fd, out, cmdline);
    free(g.sizes);
    free(g.cum);
    if (close(fd) < 0 && rc == 0) {
        hn_gcsim_error("%s: %s", out, strerror(errno));
        rc = 1;
    }
    return rc;
}
