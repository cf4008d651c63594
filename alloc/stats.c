/*
 * stats.c: heron_stats_get, the per-class statistics and the text/JSON report.
 *
 * Nothing stops other threads: thread caches publish their counts with relaxed atomic
 * stores and are summed under the threads lock (which only keeps a cache from being
 * unlinked while it is read); each central list and the page heap are read under their
 * own lock, one after the other. in_use is what is left of the bytes in spans after
 * the caches and central lists are counted, so the byte fields add up to mapped
 * exactly in every snapshot; with other threads running, a few batches may be counted
 * on the wrong side of the in_use/cache line.
 *
 * The report is written with snprintf into a stack buffer and write(2): no allocation,
 * so malloc_stats() is safe even when the heap is in trouble.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc/central.h"
#include "alloc/pageheap.h"
#include "alloc/tcache.h"
#include "heron/heron.h"

typedef struct snapshot {
  heron_stats_t s;
  heron_class_stats_t cls[HN_NCLASSES];
} snapshot_t;

static void take_snapshot(snapshot_t *snap) {
  hn_init();
  memset(snap, 0, sizeof *snap);
  hn_thread_sums_t ts;
  hn_central_stats_t cs[HN_NCLASSES];
  hn_pageheap_stats_t ph;
  hn_threads_lock();
  hn_threads_sum_locked(&ts);
  for (unsigned cl = 1; cl < HN_NCLASSES; cl++)
    hn_central_stats(cl, &cs[cl]);
  hn_pageheap_lock();
  hn_pageheap_stats_locked(&ph);
  hn_pageheap_unlock();
  hn_threads_unlock(0);

  heron_stats_t *s = &snap->s;
  int64_t tc_bytes = 0, central_bytes = 0;
  uint64_t live_small = 0, allocs = 0;
  for (unsigned cl = 1; cl < HN_NCLASSES; cl++) {
    int64_t size = hn_class_size[cl];
    int64_t held_or_cached = (int64_t)(cs[cl].out - cs[cl].transfer_objects);
    int64_t held = held_or_cached - (int64_t)ts.cached[cl];
    tc_bytes += (int64_t)ts.cached[cl] * size;
    central_bytes += (int64_t)(cs[cl].nspans * hn_class_span_bytes(cl)) - held_or_cached * size;
    heron_class_stats_t *c = &snap->cls[cl];
    c->size = hn_class_size[cl];
    c->span_pages = hn_class_pages[cl];
    c->in_use = held > 0 ? (uint64_t)held : 0;
    c->cached = ts.cached[cl] + cs[cl].transfer_objects + cs[cl].nspans * hn_class_objects[cl] - cs[cl].out;
    c->spans = cs[cl].nspans;
    c->allocations = ts.nalloc[cl];
    live_small += c->in_use;
    allocs += ts.nalloc[cl];
  }
  int64_t in_use = (int64_t)ph.in_use - tc_bytes - central_bytes;
  if (in_use < 0) {
    /* Threads moved batches between their caches and the central lists while the
     * snapshot read the one and then the other, so the caches were counted twice. Take
     * the excess from the cache figures, so that the parts still add up to what is
     * mapped (one snapshot in several thousand while four threads churn). */
    int64_t excess = -in_use;
    int64_t from_central = excess < central_bytes ? excess : central_bytes;
    central_bytes -= from_central;
    tc_bytes -= excess - from_central;
    in_use = 0;
  }
  s->in_use = (uint64_t)in_use;
  s->thread_caches = (uint64_t)tc_bytes;
  s->central_lists = (uint64_t)central_bytes;
  s->free_resident = ph.free_resident;
  s->released = ph.released;
  s->metadata = hn_meta_mapped();
  s->mapped = ph.mapped + s->metadata;
  s->requested = ts.requested;
  s->allocations = allocs + ph.large_allocations;
  s->frees = s->allocations - live_small - ph.large_live;
  s->large_allocations = ph.large_allocations;
  s->spans = ph.spans;
  s->threads = ts.threads;
  s->os_reserve_calls = hn_os_reserve_calls();
  s->os_release_calls = hn_os_release_calls();
  s->released_total = ph.released_total;
}

HERON_API void heron_stats_get(heron_stats_t *out) {
  snapshot_t snap;
  take_snapshot(&snap);
  *out = snap.s;
}

HERON_API unsigned heron_size_classes(void) { return HN_NCLASSES; }

HERON_API int heron_class_stats_get(unsigned size_class, heron_class_stats_t *out) {
  if (size_class == 0 || size_class >= HN_NCLASSES)
    return -1;
  snapshot_t snap;
  take_snapshot(&snap);
  *out = snap.cls[size_class];
  return 0;
}

typedef struct writer {
  int fd;
  size_t n;
  char buf[2048];
} writer_t;

static void flush(writer_t *w) {
  size_t off = 0;
  while (off < w->n) {
    ssize_t r = write(w->fd, w->buf + off, w->n - off);
    if (r <= 0)
      break;
    off += (size_t)r;
  }
  w->n = 0;
}

__attribute__((format(printf, 2, 3))) static void out(writer_t *w, const char *fmt, ...) {
  char line[256];
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (len < 0)
    return;
  if ((size_t)len >= sizeof line)
    len = sizeof line - 1;
  if (w->n + (size_t)len > sizeof w->buf)
    flush(w);
  memcpy(w->buf + w->n, line, (size_t)len);
  w->n += (size_t)len;
}

static void write_text(writer_t *w, const snapshot_t *snap) {
  const heron_stats_t *s = &snap->s;
  out(w, "------------------------------------------------------------------\n");
  out(w, "%s: memory (bytes)\n", heron_version());
  out(w, "------------------------------------------------------------------\n");
  int first = 1;
#define LINE(name, doc)                                                                     \
  if (strcmp(#name, "mapped") == 0)                                                         \
    out(w, "  ---------------------------------\n");                                        \
  out(w, "%s %-14s %16llu (%9.1f MiB)  %s\n", first ? " " : strcmp(#name, "mapped") ? "+" : "=", #name, \
      (unsigned long long)s->name, (double)s->name / 1048576.0, doc);                       \
  first = 0;
  HERON_STATS_BYTE_FIELDS(LINE)
#undef LINE
  out(w, "counters\n");
#define LINE(name, doc) out(w, "  %-18s %16llu  %s\n", #name, (unsigned long long)s->name, doc);
  HERON_STATS_COUNT_FIELDS(LINE)
#undef LINE
  out(w, "size classes (objects)\n");
  out(w, "  %5s %7s %5s %10s %12s %12s %14s\n", "class", "size", "pages", "spans", "in_use", "cached",
      "allocations");
  for (unsigned cl = 1; cl < HN_NCLASSES; cl++) {
    const heron_class_stats_t *c = &snap->cls[cl];
    if (!c->spans && !c->allocations)
      continue;
    out(w, "  %5u %7u %5u %10llu %12llu %12llu %14llu\n", cl, c->size, c->span_pages,
        (unsigned long long)c->spans, (unsigned long long)c->in_use, (unsigned long long)c->cached,
        (unsigned long long)c->allocations);
  }
}

static void write_json(writer_t *w, const snapshot_t *snap) {
  const heron_stats_t *s = &snap->s;
  out(w, "{\"version\":\"%s\"", heron_version());
#define FIELD(name, doc) out(w, ",\"%s\":%llu", #name, (unsigned long long)s->name);
  HERON_STATS_BYTE_FIELDS(FIELD)
  HERON_STATS_COUNT_FIELDS(FIELD)
#undef FIELD
  out(w, ",\"classes\":[");
  for (unsigned cl = 1; cl < HN_NCLASSES; cl++) {
    const heron_class_stats_t *c = &snap->cls[cl];
    out(w, "%s{\"class\":%u,\"size\":%u,\"pages\":%u,\"spans\":%llu,\"in_use\":%llu,\"cached\":%llu,"
           "\"allocations\":%llu}",
        cl > 1 ? "," : "", cl, c->size, c->span_pages, (unsigned long long)c->spans,
        (unsigned long long)c->in_use, (unsigned long long)c->cached, (unsigned long long)c->allocations);
  }
  out(w, "]}\n");
}

HERON_API void heron_stats_write(int fd, int json) {
  snapshot_t snap;
  take_snapshot(&snap);
  writer_t w;
  w.fd = fd;
  w.n = 0;
  if (json)
    write_json(&w, &snap);
  else
    write_text(&w, &snap);
  flush(&w);
}
