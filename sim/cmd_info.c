/*
 * cmd_info.c: `gcsim info trace.bin...`: what a trace holds.
 *
 * One pass over the trace with a live set: event counts by kind, threads, duration,
 * bytes and objects allocated, peak live bytes and objects (and when), what is still
 * live at the end, the file's bytes per event, log2 histograms of request sizes and of
 * object lifetimes, and, for traces with call sites, the sites that allocated the most
 * bytes, named as FILE+OFFSET from the executable mappings the header lists. The fields are one X-macro list, which makes the struct,
 * the text report and the JSON, so they cannot drift apart. A free of an object that
 * is not live makes the trace corrupt (exit 1), as docs/trace-format.md states.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sim/gcsim.h"
#include "sim/liveset.h"
#include "sim/trace_read.h"
#include "sim/units.h"

enum field_kind { F_COUNT, F_BYTES, F_NS };

/* name, kind, label of the text report */
#define INFO_FIELDS(X)                                          \
    X(events, F_COUNT, "events")                                \
    X(mallocs, F_COUNT, "  malloc")                             \
    X(callocs, F_COUNT, "  calloc")                             \
    X(reallocs, F_COUNT, "  realloc")                           \
    X(aligned, F_COUNT, "  aligned")                            \
    X(frees, F_COUNT, "  free")                                 \
    X(threads, F_COUNT, "threads")                              \
    X(duration_ns, F_NS, "duration")                            \
    X(objects, F_COUNT, "objects allocated")                    \
    X(bytes_allocated, F_BYTES, "bytes allocated")              \
    X(bytes_freed, F_BYTES, "bytes freed")                      \
    X(peak_live_bytes, F_BYTES, "peak live bytes")              \
    X(peak_live_bytes_at_ns, F_NS, "  at")                      \
    X(peak_live_objects, F_COUNT, "peak live objects")          \
    X(live_bytes_at_end, F_BYTES, "live bytes at end")          \
    X(live_objects_at_end, F_COUNT, "live objects at end")      \
    X(chunks, F_COUNT, "chunks")                                \
    X(file_bytes, F_BYTES, "file size")

#define SIZE_BUCKETS 49 /* sizes up to 2^48 (HN_TRACE_SIZE_MAX) */
#define LIFE_BUCKETS 64
#define TOP_SITES 10    /* call sites listed, as pprof's `top` does */

struct info {
#define X(name, kind, label) uint64_t name;
    INFO_FIELDS(X)
#undef X
    uint64_t size_hist[SIZE_BUCKETS];     /* objects by ceil(log2(size)) */
    uint64_t size_hist_bytes[SIZE_BUCKETS];
    uint64_t life_hist[LIFE_BUCKETS];     /* freed objects by floor(log2(lifetime ns)) */
    hn_u64map sites;                      /* call site -> (objects, bytes), with call sites */
    hn_u64map_slot top[TOP_SITES];        /* the sites with the most bytes, most first */
    unsigned ntop;
};

/* Keeps the TOP_SITES sites with the most bytes, in order. */
static void rank_sites(struct info *in)
{
    in->ntop = 0;
    for (uint64_t i = 0; in->sites.slots && i <= in->sites.mask; i++) {
        hn_u64map_slot s = in->sites.slots[i];
        if (!s.key)
            continue;
        unsigned k = in->ntop < TOP_SITES ? in->ntop++ : TOP_SITES;
        while (k > 0 && in->top[k - 1].b < s.b) {
            if (k < TOP_SITES)
                in->top[k] = in->top[k - 1];
            k--;
        }
        if (k < TOP_SITES)
            in->top[k] = s;
    }
}

/* Names a call site as FILE+0xOFFSET using the header's "maps" lines
 * ("START-END OFFSET PATH"); the bare address when no mapping holds it. */
static void name_site(const hn_trace_reader *r, uint64_t site, char *buf, size_t len)
{
    const char *maps = hn_trace_meta_get(r, "maps");
    snprintf(buf, len, "0x%" PRIx64, site);
    for (const char *line = maps; line && *line;) {
        unsigned long long lo, hi, off;
        int path_at = 0;
        if (sscanf(line, "%llx-%llx %llx %n", &lo, &hi, &off, &path_at) == 3 && path_at &&
            site >= lo && site < hi) {
            const char *path = line + path_at, *end = strchr(path, '\n');
            int plen = (int)(end ? end - path : (long)strlen(path));
            const char *slash = memrchr(path, '/', (size_t)plen);
            if (slash) {
                plen -= (int)(slash + 1 - path);
                path = slash + 1;
            }
            snprintf(buf, len, "%.*s+0x%llx", plen, path, site - lo + off);
            return;
        }
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
}

static unsigned log2_ceil(uint64_t v)
{
    return v <= 1 ? 0 : 64 - (unsigned)__builtin_clzll(v - 1);
}

static unsigned log2_floor(uint64_t v)
{
    return v == 0 ? 0 : 63 - (unsigned)__builtin_clzll(v);
}

static void note_alloc(struct info *in, uint64_t size)
{
    unsigned b = log2_ceil(size);
    in->objects++;
    in->bytes_allocated += size;
    in->size_hist[b]++;
    in->size_hist_bytes[b] += size;
}

/* Reads the whole trace; 0, or 1 after printing the error. */
static int scan(const char *path, struct info *in, hn_trace_reader **out)
{
    char err[HN_TRACE_ERR_LEN];
    hn_trace_reader *r = hn_trace_reader_open(path, err);
    if (!r) {
        hn_gcsim_error("%s", err);
        return 1;
    }
    hn_liveset live;
    if ((hn_trace_reader_header(r)->flags & HN_TRACE_F_CALLSITES) &&
        hn_u64map_init(&in->sites) < 0) {
        hn_gcsim_error("%s: out of memory", path);
        hn_trace_reader_close(r);
        return 1;
    }
    if (hn_liveset_init(&live) < 0) {
        hn_gcsim_error("%s: out of memory", path);
        hn_trace_reader_close(r);
        return 1;
    }
    hn_trace_event ev = {0};
    int rc;
    uint64_t size, born;
    while ((rc = hn_trace_next(r, &ev)) > 0) {
        switch (ev.kind) {
        case HN_EV_MALLOC: in->mallocs++; break;
        case HN_EV_CALLOC: in->callocs++; break;
        case HN_EV_REALLOC: in->reallocs++; break;
        case HN_EV_ALIGNED: in->aligned++; break;
        default: in->frees++; break;
        }
        if (ev.kind == HN_EV_FREE || ev.kind == HN_EV_REALLOC) {
            uint64_t gone = ev.kind == HN_EV_FREE ? ev.id : ev.old_id;
            if (hn_liveset_remove(&live, gone, &size, &born) < 0) {
                rc = hn_trace_reader_bad_event(r, "object %llu is not live", gone);
                break;
            }
            in->bytes_freed += size;
            in->life_hist[log2_floor(ev.time_ns - born)]++;
        }
        if (ev.kind != HN_EV_FREE) {
            note_alloc(in, ev.size);
            if (ev.callsite && in->sites.slots) {
                hn_u64map_slot *site = hn_u64map_find(&in->sites, ev.callsite);
                if (site) {
                    site->a++;
                    site->b += ev.size;
                } else if (hn_u64map_insert(&in->sites, ev.callsite, 1, ev.size) < 0) {
                    hn_gcsim_error("%s: out of memory", path);
                    rc = -2;
                    break;
                }
            }
            if (hn_liveset_add(&live, ev.id, ev.size, ev.time_ns) < 0) {
                hn_gcsim_error("%s: out of memory", path);
                rc = -2;
                break;
            }
            if (live.bytes > in->peak_live_bytes) {
                in->peak_live_bytes = live.bytes;
                in->peak_live_bytes_at_ns = ev.time_ns;
            }
            if (hn_liveset_count(&live) > in->peak_live_objects)
                in->peak_live_objects = hn_liveset_count(&live);
        }
        in->duration_ns = ev.time_ns;
    }
    in->events = r->events;
    in->threads = hn_trace_reader_threads(r);
    in->live_bytes_at_end = live.bytes;
    in->live_objects_at_end = hn_liveset_count(&live);
    in->chunks = r->chunk == UINT64_MAX ? 0 : r->chunk + (r->state == HN_TR_END && !r->warning[0]);
    in->file_bytes = hn_trace_reader_bytes(r);
    hn_liveset_destroy(&live);
    rank_sites(in);
    hn_u64map_destroy(&in->sites);
    if (rc == -1)
        hn_gcsim_error("%s", hn_trace_reader_error(r));
    else if (rc == 0 && hn_trace_reader_warning(r))
        hn_gcsim_warn("%s", hn_trace_reader_warning(r));
    if (rc < 0) {
        hn_trace_reader_close(r);
        return 1;
    }
    *out = r;
    return 0;
}

static void print_value(enum field_kind kind, uint64_t v)
{
    char buf[48];
    switch (kind) {
    case F_COUNT: printf("%" PRIu64 "\n", v); break;
    case F_BYTES: printf("%s (%" PRIu64 " B)\n", hn_fmt_size(buf, sizeof buf, (double)v), v); break;
    case F_NS: printf("%s\n", hn_fmt_duration(buf, sizeof buf, (double)v)); break;
    }
}

static void bar(uint64_t n, uint64_t max)
{
    int w = max ? (int)((n * 40 + max - 1) / max) : 0;
    for (int i = 0; i < w; i++)
        putchar('#');
}

static void print_text(const char *path, const hn_trace_reader *r, const struct info *in)
{
    const hn_trace_header *h = hn_trace_reader_header(r);
    char when[64] = "unknown";
    if (h->start_unix_ns) {
        time_t t = (time_t)(h->start_unix_ns / 1000000000u);
        struct tm tm;
        if (gmtime_r(&t, &tm))
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    }
    printf("trace                %s\n", path);
    printf("program              %s\n", h->program[0] ? h->program : "(none)");
    if (h->args[0])
        printf("command line         %s\n", h->args);
    printf("written by           %s\n", h->generator[0] ? h->generator : "(unknown)");
    printf("started              %s", when);
    if (h->pid)
        printf(", pid %" PRIu64, h->pid);
    if (h->parent_pid)
        printf(", forked from pid %" PRIu64, h->parent_pid);
    printf("\ncall sites           %s\n", (h->flags & HN_TRACE_F_CALLSITES) ? "recorded" : "no");
#define X(name, kind, label)           \
    printf("%-21s", label);            \
    print_value(kind, in->name);
    INFO_FIELDS(X)
#undef X
    printf("%-21s%.2f\n", "bytes per event", in->events ? (double)in->file_bytes / (double)in->events : 0.0);

    uint64_t max = 0;
    for (int i = 0; i < SIZE_BUCKETS; i++)
        max = in->size_hist[i] > max ? in->size_hist[i] : max;
    printf("\nrequest sizes (objects by size, rounded up to a power of two):\n");
    for (int i = 0; i < SIZE_BUCKETS; i++) {
        if (!in->size_hist[i])
            continue;
        char b[48], t[48];
        printf("  <= %-10s %12" PRIu64 " %5.1f%%  %10s  ", hn_fmt_size(b, sizeof b, (double)((uint64_t)1 << i)),
               in->size_hist[i], 100.0 * (double)in->size_hist[i] / (double)in->objects,
               hn_fmt_size(t, sizeof t, (double)in->size_hist_bytes[i]));
        bar(in->size_hist[i], max);
        putchar('\n');
    }
    max = 0;
    for (int i = 0; i < LIFE_BUCKETS; i++)
        max = in->life_hist[i] > max ? in->life_hist[i] : max;
    printf("\nlifetimes (freed objects by time from allocation to free):\n");
    for (int i = 0; i < LIFE_BUCKETS; i++) {
        if (!in->life_hist[i])
            continue;
        char b[48];
        printf("  < %-11s %12" PRIu64 " %5.1f%%  ", hn_fmt_duration(b, sizeof b, (double)((uint64_t)2 << i)),
               in->life_hist[i], 100.0 * (double)in->life_hist[i] / (double)in->objects);
        bar(in->life_hist[i], max);
        putchar('\n');
    }
    printf("  never freed    %12" PRIu64 " %5.1f%%\n", in->live_objects_at_end,
           in->objects ? 100.0 * (double)in->live_objects_at_end / (double)in->objects : 0.0);
    if (!in->ntop)
        return;
    printf("\ncall sites allocating the most bytes:\n");
    for (unsigned i = 0; i < in->ntop; i++) {
        char b[48], where[160];
        name_site(r, in->top[i].key, where, sizeof where);
        printf("  %10s %5.1f%% %12" PRIu64 " objects  %s\n",
               hn_fmt_size(b, sizeof b, (double)in->top[i].b),
               in->bytes_allocated ? 100.0 * (double)in->top[i].b / (double)in->bytes_allocated : 0.0,
               in->top[i].a, where);
    }
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void print_json(const char *path, const hn_trace_reader *r, const struct info *in, int more)
{
    const hn_trace_header *h = hn_trace_reader_header(r);
    printf("{\"trace\": ");
    json_str(path);
    printf(", \"header\": {");
    for (size_t i = 0; i < h->nmeta; i++) {
        printf(i ? ", " : "");
        json_str(h->keys[i]);
        printf(": ");
        json_str(h->values[i]);
    }
    printf("}, \"callsites\": %s, \"complete\": %s", (h->flags & HN_TRACE_F_CALLSITES) ? "true" : "false",
           hn_trace_reader_warning(r) ? "false" : "true");
#define X(name, kind, label) printf(", \"" #name "\": %" PRIu64, in->name);
    INFO_FIELDS(X)
#undef X
    printf(", \"size_hist_log2\": [");
    for (int i = 0; i < SIZE_BUCKETS; i++)
        printf("%s%" PRIu64, i ? ", " : "", in->size_hist[i]);
    printf("], \"lifetime_hist_log2_ns\": [");
    for (int i = 0; i < LIFE_BUCKETS; i++)
        printf("%s%" PRIu64, i ? ", " : "", in->life_hist[i]);
    printf("], \"top_callsites\": [");
    for (unsigned i = 0; i < in->ntop; i++) {
        char where[160];
        name_site(r, in->top[i].key, where, sizeof where);
        printf("%s{\"site\": \"0x%" PRIx64 "\", \"where\": ", i ? ", " : "", in->top[i].key);
        json_str(where);
        printf(", \"objects\": %" PRIu64 ", \"bytes\": %" PRIu64 "}", in->top[i].a, in->top[i].b);
    }
    printf("]}%s\n", more ? "," : "");
}

static int info_usage(FILE *to)
{
    fprintf(to, "usage: gcsim info [--json] trace.bin...\n"
                "  Prints what each trace holds: events, threads, duration, bytes and objects\n"
                "  allocated, peak live bytes and objects, size and lifetime histograms.\n"
                "  --json   one JSON object per trace (a list when there are several)\n");
    return to == stdout ? 0 : 2;
}

int hn_cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'h': return info_usage(stdout);
        default: return info_usage(stderr);
        }
    }
    if (optind >= argc) {
        hn_gcsim_error("info: no trace given");
        return info_usage(stderr);
    }
    int status = 0, several = argc - optind > 1;
    if (json && several)
        printf("[\n");
    for (int i = optind; i < argc; i++) {
        struct info in;
        hn_trace_reader *r = NULL;
        memset(&in, 0, sizeof in);
        if (scan(argv[i], &in, &r)) {
            status = 1;
            continue;
        }
        if (json)
            print_json(argv[i], r, &in, several && i + 1 < argc);
        else {
            if (i > optind)
                putchar('\n');
            print_text(argv[i], r, &in);
        }
        hn_trace_reader_close(r);
    }
    if (json && several)
        printf("]\n");
    return status;
}
