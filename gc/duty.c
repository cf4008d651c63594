/* gc/duty.c: the background mark worker's duty cycle (duty.h). */
#include "gc/duty.h"

int64_t hn_duty_resume_at(hn_duty *d, int64_t now_ns, int64_t cpu_ns)
{
    if (d->util >= 1)
        return now_ns;
    int64_t due = d->wall0 + (int64_t)((double)cpu_ns / d->util);
    int64_t late = now_ns - due - (int64_t)HN_DUTY_FORGIVE_SLICES * HN_DUTY_SLICE_NS;
    if (late > 0)
        d->wall0 += late;
    return due;
}
