/*
 * collector.h: the cycle driver, shared by the API entry points.
 */
#ifndef HN_GC_COLLECTOR_H
#define HN_GC_COLLECTOR_H

#include <stdint.h>

/* Start the collector once (threads, signal handlers, helper threads). 0 or an errno. */
int hn_collector_ensure_init(void);
/* Run a cycle if the heap has grown past the trigger (after an allocation). */
void hn_collector_maybe_collect(void);
/* Run a full cycle; with `finish_sweep`, sweep everything before returning. */
void hn_collector_collect(int forced);

#endif
