/* bg_worker.c: heron's background mark worker over model time (bg_worker.h). */
#include "sim/bg_worker.h"

void hn_bg_worker_start(hn_bg_worker *w, int64_t t, double util)
{
    hn_duty_init(&w->duty, t, util);
    w->cpu_ns = 0;
    w->at = t;
    w->slice_end = t + HN_DUTY_SLICE_NS;
    w->wake = t;
    w->sleeping = false;
}

/* A slice ended at w->at: sleep until the duty cycle's time, or start the next. */
static void end_slice(hn_bg_worker *w)
{
    int64_t due = hn_duty_resume_at(&w->duty, w->at, (int64_t)w->cpu_ns);
    if (due > w->at) {
        w->sleeping = true;
        w->wake = due;
    } else {
        w->slice_end = w->at + HN_DUTY_SLICE_NS;
    }
}

double hn_bg_worker_run(hn_bg_worker *w, int64_t t, double speed)
{
    double cpu0 = w->cpu_ns;
    while (w->at < t) {
        if (w->sleeping) {
            if (w->wake >= t) {
                w->at = t;
                break;
            }
            w->at = w->wake;
            w->sleeping = false;
            w->slice_end = w->at + HN_DUTY_SLICE_NS;
            continue;
        }
        int64_t until = w->slice_end < t ? w->slice_end : t;
        w->cpu_ns += (double)(until - w->at) * speed;
        w->at = until;
        if (w->at == w->slice_end)
            end_slice(w);
    }
    return w->cpu_ns - cpu0;
}

int64_t hn_bg_worker_time_for(const hn_bg_worker *w, double cpu_ns)
{
    if (cpu_ns <= 0)
        return w->at;
    if (w->duty.util >= 1) /* never sleeps */
        return w->at + (int64_t)cpu_ns;
    hn_bg_worker v = *w;
    /* Slice by slice until the worker is on its schedule (it wakes when due), then
     * whole periods at once: each gives a slice of CPU per slice / util of time. */
    for (;;) {
        if (v.sleeping) {
            v.at = v.wake;
            v.sleeping = false;
            v.slice_end = v.at + HN_DUTY_SLICE_NS;
            double slices = cpu_ns / HN_DUTY_SLICE_NS;
            double whole = (double)(int64_t)slices;
            double period = HN_DUTY_SLICE_NS / v.duty.util;
            if (whole == slices) /* ends with a slice: not the sleep after it */
                return v.at + (int64_t)((whole - 1) * period) + HN_DUTY_SLICE_NS;
            return v.at + (int64_t)(whole * period + (slices - whole) * HN_DUTY_SLICE_NS);
        }
        double run = (double)(v.slice_end - v.at);
        if (cpu_ns <= run)
            return v.at + (int64_t)cpu_ns;
        cpu_ns -= run;
        v.cpu_ns += run;
        v.at = v.slice_end;
        end_slice(&v);
    }
}
