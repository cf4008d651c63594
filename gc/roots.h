/*
 * roots.h: registered root ranges (globals, handle tables), scanned conservatively.
 */
#ifndef HN_GC_ROOTS_H
#define HN_GC_ROOTS_H

#include <stddef.h>
#include <stdint.h>

int hn_roots_add(const void *start, size_t size);
int hn_roots_remove(const void *start);
/* Lock the table for a cycle, so the ranges can be walked with the world stopped. */
void hn_roots_lock(void);
void hn_roots_unlock(void);
/* Calls fn for each range; the caller holds the table lock. Returns the bytes walked. */
size_t hn_roots_each_locked(void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg);

#endif
