/*
 * finalize.h: finalizers and weak references.
 */
#ifndef HN_GC_FINALIZE_H
#define HN_GC_FINALIZE_H

#include <stddef.h>
#include <stdint.h>

#include "gc/mark.h"
#include "heron/gc.h"

int hn_fin_set(uintptr_t obj, heron_gc_finalizer_fn fn, void *arg);
/* The collector holds the finalizer and weak locks for a whole cycle. */
void hn_fin_lock(void);
void hn_fin_unlock(void);
/* Grey every object whose finalizer is queued but has not run (they stay alive). */
void hn_fin_mark_queued_locked(hn_marker_t *m);
/* After the first drain: clear weak references to unmarked objects; returns how many. */
uint64_t hn_weak_clear_locked(void);
/* Queue the finalizers of unmarked objects and grey those objects; returns how many. */
uint64_t hn_fin_queue_unreachable_locked(hn_marker_t *m);
/* Run up to max queued finalizers on the calling thread; returns how many ran. */
size_t hn_fin_run(size_t max);
/* Block until a finalizer is queued (the finalizer thread). */
void hn_fin_wait(void);
/* Wake the finalizer thread after a cycle queued some. */
void hn_fin_notify(void);
uint64_t hn_fin_run_count(void);
uint64_t hn_fin_queued_count(void);
uint64_t hn_weak_cleared_count(void);

#endif
