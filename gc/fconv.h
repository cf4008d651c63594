/* gc/fconv.h: doubles to integers for the pure pacing modules (pacer, scavenger
 * goals). In range they truncate, as Go's conversions do, so the arithmetic agrees
 * with Go's to the byte; out of range they saturate where a C cast would be
 * undefined behaviour. No threads, no I/O: safe for the pure modules.
 */
#ifndef HERON_GC_FCONV_H
#define HERON_GC_FCONV_H

#include <math.h>
#include <stdint.h>

/* NaN gives 0. */
static inline int64_t hn_f2i64(double x)
{
    if (isnan(x))
        return 0;
    if (x >= 9223372036854775807.0)
        return INT64_MAX;
    if (x <= -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)x;
}

/* NaN and negatives give 0. */
static inline uint64_t hn_f2u64(double x)
{
    if (isnan(x) || x <= 0)
        return 0;
    if (x >= 18446744073709551615.0)
        return UINT64_MAX;
    return (uint64_t)x;
}

#endif
