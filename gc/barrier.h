/*
 * barrier.h: the deletion write barrier's buffers, mark assists, and the mark totals
 * that every marker adds to (barrier.c).
 */
#ifndef HN_GC_BARRIER_H
#define HN_GC_BARRIER_H

#include <stddef.h>
#include <stdint.h>

#include "gc/mark.h"
#include "gc/threads.h"

/* Sums over every marker of the cycle (relaxed atomics; reset in the first pause). */
extern uint64_t hn_mark_total_bytes, hn_mark_total_objects, hn_mark_total_scanned;
/* Threads inside an assist now: marking cannot end while one holds grey work. */
extern int hn_assists_active;

/* Give the marker's chunks to the pool and add its counts to the totals. */
void hn_marker_publish(hn_marker_t *m);
/* Grey t's barrier buffer into m and empty it. World stopped, or t is the caller. */
void hn_barrier_flush_into(hn_gcthread_t *t, hn_marker_t *m);
/* Grey the caller's own barrier buffer into the pool, if marking runs: when the buffer
 * is full, and when the thread detaches (its record, buffer and all, is freed). */
void hn_barrier_flush(hn_gcthread_t *t);
/* After allocating `bytes` while marking: pay for it with scan work if in debt. */
void hn_assist_alloc(hn_gcthread_t *t, size_t bytes);

#endif
