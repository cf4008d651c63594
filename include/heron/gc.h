/*
 * gc.h: heron's garbage collector for C programs and language runtimes written in C.
 *
 * A concurrent mark-sweep collector on the allocator's spans, paced like Go's (GOGC,
 * GOMEMLIMIT). Objects come in three kinds:
 *   - precise:       the pointer words are described by a bitmap or a type descriptor,
 *                    and only those words are followed;
 *   - noscan:        pointer-free (strings, numbers, pixels); never scanned;
 *   - conservative:  every aligned word that looks like a pointer into the GC heap is
 *                    followed (bdwgc's default).
 * Roots are the registered memory ranges and the stacks and registers of every attached
 * thread (scanned conservatively). A pointer to any byte inside an object keeps it alive.
 *
 * Threads: a thread must call heron_gc_thread_attach() before it touches GC objects
 * (heron_gc_init() attaches the calling thread). Collection stops attached threads with
 * the signal HERON_GC_SIG_SUSPEND (SIGPWR) and resumes them with HERON_GC_SIG_RESUME
 * (SIGXCPU); an attached thread must not block those signals.
 *
 * Finalizers run on heron's finalizer thread, never inside an allocation call, or, with
 * HERON_GC_FINALIZE_EXPLICIT, only when the program calls heron_gc_run_finalizers().
 * All functions are thread-safe unless stated.
 */
#ifndef HERON_GC_H
#define HERON_GC_H

#include <stddef.h>
#include <stdint.h>

#include "heron/heron.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HERON_GC_SIG_SUSPEND 30 /* SIGPWR on x86-64 and aarch64 Linux */
#define HERON_GC_SIG_RESUME 24  /* SIGXCPU */

/* Configuration for heron_gc_init(). Zero fields take their defaults. */
typedef struct heron_gc_config {
  /* Heap growth between cycles in percent (Go's GOGC): the heap goal is live + (live +
   * stacks + globals) * gogc / 100, at least 4 MiB * gogc / 100; the pacer starts each
   * cycle early enough for concurrent marking to finish near the goal.
   * 0: the default 100 (or the GOGC environment variable); negative: never automatic. */
  int gogc;
  /* Flags: HERON_GC_FINALIZE_EXPLICIT, HERON_GC_NO_BACKGROUND_SWEEP,
   * HERON_GC_NO_SCAVENGER. */
  unsigned flags;
  /* Soft memory limit in bytes (Go's GOMEMLIMIT): 0 takes the GOMEMLIMIT environment
   * variable (unset: none); negative: none. */
  int64_t memory_limit;
} heron_gc_config_t;

#define HERON_GC_FINALIZE_EXPLICIT 1u    /* no finalizer thread: heron_gc_run_finalizers() */
#define HERON_GC_NO_BACKGROUND_SWEEP 2u  /* sweep only lazily, on the allocation path */
#define HERON_GC_NO_SCAVENGER 4u         /* no background release of free memory */

/* Start the collector and attach the calling thread. Returns 0, or an errno value.
 * A second call does nothing and returns 0. cfg may be NULL. */
HERON_API int heron_gc_init(const heron_gc_config_t *cfg);
/* Set GOGC at run time; returns the previous value (Go's debug.SetGCPercent). Negative
 * is GOGC=off: no cycle from heap growth (a memory limit still starts cycles). */
HERON_API int heron_gc_set_gogc(int gogc);
/* Set the soft memory limit in bytes; returns the previous one (Go's
 * debug.SetMemoryLimit). A negative value only reads it; INT64_MAX is no limit. */
HERON_API int64_t heron_gc_set_memory_limit(int64_t limit);

/* Environment, read once at start: GOGC ("100", "off"), GOMEMLIMIT ("512MiB", "off"),
 * both as Go parses them (a bad value prints one warning line and keeps the default);
 * HERON_GCTRACE=1 (or GODEBUG=gctrace=1) prints one line per cycle to stderr in the
 * format of Go's gctrace. */

/* Threads. Attach before using GC objects; detach before the thread exits. The stack
 * from the attach call's caller upward to the thread's stack base is scanned. */
HERON_API int heron_gc_thread_attach(void);
HERON_API void heron_gc_thread_detach(void);
/* Around a long blocking call (a join, a wait, a read) the thread may declare that it
 * does not touch GC objects: the collector then scans its stack (as it was at begin,
 * locals and registers included) without signalling it. end waits for a collection in
 * progress to finish. Calls nest no deeper than one level. */
HERON_API void heron_gc_blocking_begin(void);
HERON_API void heron_gc_blocking_end(void);

/* Precise layout. Word i of the object (i counted in pointer-sized words) holds a pointer
 * when bit (i % 64) of ptrmap[i / 64] is set. For arrays, the layout of one element
 * (size bytes, ptrmap over its words) repeats over the object. */
typedef struct heron_gc_type {
  size_t size;              /* bytes of one element, a multiple of sizeof(void *) */
  const uint64_t *ptrmap;   /* (size / sizeof(void *) + 63) / 64 words */
} heron_gc_type_t;

/* Allocation. Memory is zeroed. NULL with errno ENOMEM on failure; size 0 gives a
 * unique object of the smallest class. The result is aligned to 16 bytes. */
/* Conservatively scanned: every word may be a pointer. */
HERON_API void *heron_gc_malloc(size_t size);
/* Pointer-free: never scanned. */
HERON_API void *heron_gc_malloc_noscan(size_t size);
/* Precise, for objects of up to 63 words (504 bytes): bit i of ptrmap says word i is a
 * pointer. Larger sizes or bit 63 set: NULL with errno EINVAL. A precise object holds
 * its descriptor in a hidden last word, except when ptrmap names every word: that
 * object is scanned word by word as a conservative one, in the size it asked for. */
HERON_API void *heron_gc_malloc_bitmap(size_t size, uint64_t ptrmap);
/* Precise from a type descriptor: an array of count elements of type t (count >= 1).
 * The descriptor must stay valid while such objects exist. */
HERON_API void *heron_gc_malloc_typed(const heron_gc_type_t *t, size_t count);
/* Usable size of a GC object (its interior pointer is accepted), 0 if p is not one. */
HERON_API size_t heron_gc_size(const void *p);
/* Start of the object containing p, or NULL if p does not point into a live GC object. */
HERON_API void *heron_gc_base(const void *p);

/* Roots: [start, start + size) is scanned conservatively at every cycle until it is
 * removed (globals, handle tables, memory from malloc holding GC pointers). */
HERON_API int heron_gc_add_root(const void *start, size_t size);
/* Removes a range added with the same start; returns 0, or ENOENT. */
HERON_API int heron_gc_remove_root(const void *start);

/* The write barrier. Marking runs while the program does, so the collector must hear
 * of pointers the program overwrites. The rule: every store of a GC pointer (or of
 * anything over a slot that may hold one) into a GC heap object or into a registered
 * root range goes through HERON_GC_STORE(&slot, value) (or heron_gc_store). Stores
 * into local variables (stack and registers) need nothing. Outside marking it costs
 * one load of a global flag and a predictable branch; while marking it records the
 * overwritten pointer (Yuasa's deletion barrier). Initialising a freshly allocated
 * object needs no barrier (its slots hold zeros), but using it is harmless. */
HERON_API void heron_gc_write_barrier_slow(void *old);
extern HERON_API int heron_gc_barrier_on; /* read with a relaxed atomic load */
#define HERON_GC_STORE(slot, value)                                                   \
  do {                                                                                \
    void **heron_slot_ = (void **)(slot);                                             \
    if (__builtin_expect(__atomic_load_n(&heron_gc_barrier_on, __ATOMIC_RELAXED), 0)) \
      heron_gc_write_barrier_slow(*heron_slot_);                                      \
    *heron_slot_ = (void *)(value);                                                   \
  } while (0)
static inline void heron_gc_store(void *slot, void *value) { HERON_GC_STORE(slot, value); }

/* Run a full collection now and wait for it (runtime.GC()). Sweeping of the freed
 * objects is finished before it returns, so statistics show the result. */
HERON_API void heron_gc_collect(void);

/* Finalizers. fn(obj, arg) runs once, after obj (the start of a GC object) is found
 * unreachable; obj and what it reaches stay alive until fn has run, and are freed by a
 * later cycle unless fn made obj reachable again. fn == NULL removes the finalizer.
 * Returns 0, EINVAL (not the start of a GC object) or ENOMEM. */
typedef void (*heron_gc_finalizer_fn)(void *obj, void *arg);
HERON_API int heron_gc_set_finalizer(void *obj, heron_gc_finalizer_fn fn, void *arg);
/* Run the finalizers that are ready; returns how many ran. With a finalizer thread it
 * also runs them (whichever thread gets each one first). */
HERON_API size_t heron_gc_run_finalizers(void);

/* Weak references: a handle that does not keep its target alive and reads NULL once the
 * target has been found unreachable (before its finalizer, as Go's weak.Pointer). */
typedef struct heron_gc_weak heron_gc_weak_t;
HERON_API heron_gc_weak_t *heron_gc_weak_new(void *obj);
HERON_API void *heron_gc_weak_get(const heron_gc_weak_t *w);
HERON_API void heron_gc_weak_free(heron_gc_weak_t *w);

/* Statistics; reading them never stops the world. */
#define HERON_GC_STATS_FIELDS(X)                                                      \
  X(heap_in_use, "bytes in GC objects not yet freed (size-class rounded)")           \
  X(heap_live, "bytes marked live by the last cycle")                                \
  X(heap_spans, "bytes in spans the collector holds")                                \
  X(next_gc, "heap_in_use at which the next automatic cycle starts")                \
  X(cycles, "completed collection cycles")                                           \
  X(forced_cycles, "cycles started by heron_gc_collect()")                           \
  X(pause_total_ns, "stop-the-world pause time, total")                              \
  X(pause_max_ns, "longest stop-the-world pause")                                     \
  X(pause_last_ns, "last stop-the-world pause")                                       \
  X(bytes_allocated, "bytes allocated since start")                                   \
  X(objects_allocated, "objects allocated since start")                              \
  X(bytes_freed, "bytes freed by sweeping since start")                               \
  X(objects_freed, "objects freed by sweeping since start")                          \
  X(finalizers_queued, "finalizers queued to run since start")                       \
  X(finalizers_run, "finalizers run since start")                                    \
  X(weak_cleared, "weak references cleared since start")                             \
  X(threads, "attached threads")                                                     \
  X(heap_goal, "heap size the pacer aims to finish the current or next cycle at")     \
  X(pauses, "stop-the-world pauses (two per cycle, one more per mark resume)")        \
  X(gc_cpu_assist_ns, "CPU time of mark assists (and synchronous scavenging)")         \
  X(gc_cpu_background_ns, "CPU time of the background mark worker")                  \
  X(gc_cpu_idle_ns, "CPU time of idle-priority marking (none in heron)")              \
  X(gc_cpu_pause_ns, "CPU time of pauses: wall time times processors")                \
  X(scavenged_bytes, "bytes of free memory released to the OS since start")           \
  X(limiter_activations, "times the GC CPU limiter started limiting")                 \
  X(gogc, "GOGC in force (UINT64_MAX: off)")                                          \
  X(memory_limit, "memory limit in force, bytes (INT64_MAX: none)")                   \
  X(spans, "spans the collector holds (each sweep visits every one)")                \
  X(mark_resumes, "mark terminations that found grey work and resumed marking")

typedef struct heron_gc_stats {
#define HERON_GC_STATS_FIELD(name, doc) uint64_t name;
  HERON_GC_STATS_FIELDS(HERON_GC_STATS_FIELD)
#undef HERON_GC_STATS_FIELD
} heron_gc_stats_t;

HERON_API void heron_gc_stats_get(heron_gc_stats_t *out);
/* Write the statistics as text (json == 0) or one JSON object to fd, without allocating. */
HERON_API void heron_gc_stats_write(int fd, int json);

#ifdef __cplusplus
}
#endif

#endif
